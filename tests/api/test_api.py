"""The token API through a real HTTP client (requests) against the live test server, with
connections pointed at the real local authorization server (tests/servers.py)."""

import json
import logging
import os
import re
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from openapi_spec_validator import validate

from connectors.models import ApiKey, Connection, Event, Status
from connectors.store import apikeys
from tests.api.helpers import JSON, assert_problem, key_for
from tests.connections import make_hypatos, make_invenias
from tests.engine.test_concurrency import authorize_inverbis, expire
from tests.slow_partner import SlowPartner

pytestmark = pytest.mark.django_db(transaction=True)


# --- handing out tokens ----------------------------------------------------------------------------


def test_a_key_with_token_permission_gets_a_valid_token(api, auth_server):
    connection = make_hypatos(auth_server)
    key = key_for(connection, name="billing-service")
    auth_server.reset_stats()

    answer = api.token(connection.pk, key)

    assert answer.status_code == 200, answer.text
    assert "no-store" in answer.headers["Cache-Control"]
    body = answer.json()
    connection.refresh_from_db()
    assert body["access_token"] == connection.access_token and body["token_type"] == "Bearer"
    assert body["scope"] == connection.token_scope and 3000 < body["expires_in"] <= 3600
    # The partner accepts the token handed out.
    probe = requests.get(
        f"{auth_server.hypatos_endpoint}/projects?limit=1",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert probe.status_code == 200
    assert auth_server.stats()["total"] == 1  # the first token; a second ask reuses it
    assert api.token(connection.pk, key).json()["access_token"] == body["access_token"]
    assert auth_server.stats()["total"] == 1
    handouts = connection.events.filter(action="token handed out")
    assert handouts.count() == 2 and "billing-service" in handouts[0].detail
    assert ApiKey.objects.get().last_used_at is not None


def test_key_without_token_permission_gets_403_and_no_token(api, auth_server):
    connection = make_hypatos(auth_server)
    connection.get_access_token()
    key = key_for(connection, tokens=False)

    body = assert_problem(api.token(connection.pk, key), 403, "tokens-not-allowed")

    assert connection.access_token not in json.dumps(body)
    assert not connection.events.filter(action="token handed out").exists()
    # It still reads the metadata and health.
    listing = api.request("GET", "/connections", key)
    assert listing.status_code == 200 and [c["id"] for c in listing.json()["items"]] == [connection.pk]


def test_key_for_one_connection_gets_404_for_another_like_for_none(api, auth_server):
    a = make_hypatos(auth_server, name="A")
    b = make_hypatos(auth_server, name="B")
    key = key_for(a)

    forbidden = assert_problem(api.token(b.pk, key), 404, "not-found")
    unknown = assert_problem(api.token(b.pk + 1000, key), 404, "not-found")
    tested = assert_problem(api.request("POST", f"/connections/{b.pk}/test", key), 404, "not-found")

    assert forbidden == unknown == tested  # nothing tells an existing id from a missing one
    assert [c["name"] for c in api.request("GET", "/connections", key).json()["items"]] == ["A"]
    assert api.token(a.pk, key).status_code == 200


@pytest.mark.parametrize("path", ["/connections/0/token", "/connections/99999999999999999999/token"])
def test_ids_out_of_range_are_not_found(api, auth_server, path):
    key = key_for(make_hypatos(auth_server))
    assert_problem(api.request("POST", path, key), 404, "not-found")
    assert_problem(api.request("POST", path.replace("/token", "/test"), key), 404, "not-found")


@pytest.mark.parametrize(
    "body",
    [
        '{"force_refresh": "perhaps"}',
        '{"min_valid_seconds": 1e400}',
        "[1, 2]",
        '"text"',
        '{"min_valid_seconds": null}x',
    ],
)
def test_odd_bodies_get_400_naming_the_problem(api, auth_server, body):
    connection = make_hypatos(auth_server)
    answer = api.request("POST", f"/connections/{connection.pk}/token", key_for(connection), data=body, headers=JSON)
    assert_problem(answer, 400, "invalid-request")


def test_provider_keys_see_every_connection_of_the_provider(api, auth_server):
    first = make_hypatos(auth_server, name="H1")
    make_invenias(auth_server)
    key = key_for(providers=["hypatos"])
    later = make_hypatos(auth_server, name="H2")  # added after the key: included

    listing = api.request("GET", "/connections", key).json()["items"]

    assert [(c["id"], c["provider"]) for c in listing] == [(first.pk, "hypatos"), (later.pk, "hypatos")]
    assert listing[0]["health"] == {"code": "ready", "label": "ready"}
    assert set(listing[0]) == {
        "id",
        "provider",
        "provider_label",
        "name",
        "health",
        "token_expires_at",
        "last_test",
    }


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown", "missing"])
def test_revoked_expired_unknown_and_missing_keys_get_401(api, auth_server, state):
    connection = make_hypatos(auth_server)
    key = key_for(connection)
    assert api.token(connection.pk, key).status_code == 200
    if state == "revoked":
        ApiKey.objects.update(revoked_at=timezone.now())
    elif state == "expired":
        ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "unknown":
        key = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    else:
        key = None
    handed_out = connection.events.filter(action="token handed out").count()

    for answer in (api.token(connection.pk, key), api.request("GET", "/connections", key)):
        body = assert_problem(answer, 401, "invalid-key")
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert {"revoked": "revoked", "expired": "expired"}.get(
            state, "Bearer" if state == "missing" else "not valid"
        ) in (body["detail"])
    assert connection.events.filter(action="token handed out").count() == handed_out


def test_min_valid_seconds_and_force_refresh_renew_first(api, auth_server):
    connection = make_hypatos(auth_server)
    key = key_for(connection)
    first = api.token(connection.pk, key).json()
    auth_server.reset_stats()

    # The token lives an hour: asking for two hours of validity renews it.
    longer = api.token(connection.pk, key, min_valid_seconds=7200).json()
    assert longer["access_token"] != first["access_token"] and auth_server.stats()["total"] == 1
    forced = api.token(connection.pk, key, force_refresh=True).json()
    assert forced["access_token"] != longer["access_token"] and auth_server.stats()["total"] == 2
    assert api.token(connection.pk, key).json()["access_token"] == forced["access_token"]
    assert auth_server.stats()["total"] == 2

    body = assert_problem(api.token(connection.pk, key, min_valid_seconds=-5), 400, "invalid-request")
    assert body["errors"][0]["field"] == "min_valid_seconds" and "min_valid_seconds" in body["detail"]
    not_json = api.request("POST", f"/connections/{connection.pk}/token", key, data="min_valid_seconds=5")
    assert_problem(not_json, 415, "unsupported-media-type")


@pytest.mark.database
def test_eight_concurrent_requests_on_an_expired_connection_renew_once(api, auth_server):
    connection = authorize_inverbis(auth_server)  # a rotating refresh token: a second use fails
    key = key_for(connection)
    expire(connection)
    auth_server.reset_stats()
    start = threading.Barrier(8)
    answers = [None] * 8

    def ask(index):
        start.wait()
        answers[index] = api.token(connection.pk, key)

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [answer.status_code for answer in answers] == [200] * 8, [a.text for a in answers]
    stats = auth_server.stats()
    assert stats["total"] == 1 and stats["by_grant_type"] == {"refresh_token": 1}, stats
    connection.refresh_from_db()
    assert {answer.json()["access_token"] for answer in answers} == {connection.access_token}
    assert connection.events.filter(action="refreshed").count() == 1
    assert connection.events.filter(action="token handed out").count() == 8


def test_eight_concurrent_forced_refreshes_renew_once(api, auth_server):
    # A partner answering after a second, so that all eight ask while the first renewal runs; a
    # request arriving after a forced renewal finished would rightly renew again.
    with SlowPartner(delay=1.0) as partner:
        connection = make_hypatos(auth_server, endpoint_url=partner.endpoint, token_url=partner.token_url)
        key = key_for(connection)
        assert api.token(connection.pk, key).status_code == 200
        obtained = Connection.objects.get(pk=connection.pk).token_obtained_at
        start = threading.Barrier(8)
        answers = [None] * 8

        def ask(index):
            start.wait()
            answers[index] = api.token(connection.pk, key, force_refresh=True)

        threads = [threading.Thread(target=ask, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert [answer.status_code for answer in answers] == [200] * 8
        assert partner.count == 2  # the first token, then one forced renewal for all eight
    connection.refresh_from_db()
    assert connection.token_obtained_at > obtained
    assert connection.events.filter(action="token requested").count() == 2


def test_needs_reauthorization_answers_409_with_the_regenerate_link(api, auth_server, live_server):
    connection = authorize_inverbis(auth_server)
    key = key_for(connection)
    auth_server.revoke_refresh_tokens()
    expire(connection)

    body = assert_problem(api.token(connection.pk, key), 409, "needs-reauthorization")

    connection.refresh_from_db()
    assert connection.status == Status.NEEDS_REAUTHORIZATION
    assert body["detail"] == (
        "The authorization has expired or was revoked at the provider (invalid_grant): click Regenerate to log in again."
    )
    page = f"{live_server.url}/admin/connectors/inverbisconnection/{connection.pk}/change/"
    assert body["regenerate_url"] == page
    listing = api.request("GET", "/connections", key).json()["items"]
    assert listing[0]["health"]["code"] == "needs_reauthorization"
    # Asked again: the status the admin shows, without asking the partner.
    auth_server.reset_stats()
    again = assert_problem(api.token(connection.pk, key), 409, "needs-reauthorization")
    assert again["detail"] == "The provider no longer accepts the refresh token: click Regenerate."
    assert again["regenerate_url"] == page and auth_server.stats()["total"] == 0


def test_not_authorized_answers_409_with_the_generate_link(api, auth_server):
    from tests.connections import make_inverbis

    connection = make_inverbis(auth_server)
    body = assert_problem(api.token(connection.pk, key_for(connection)), 409, "not-authorized")
    assert body["detail"] == "Not authorized yet: click Generate." and body["regenerate_url"].endswith(
        f"/inverbisconnection/{connection.pk}/change/"
    )


def test_a_partner_failure_answers_502_with_the_admins_sentence(api, fault_server, auth_server):
    connection = make_hypatos(
        auth_server, token_url=fault_server.url("/invalid-client"), endpoint_url=fault_server.url("/v2")
    )
    key = key_for(connection)

    body = assert_problem(api.token(connection.pk, key), 502, "partner-failed")

    assert body["kind"] == "invalid_client"
    assert body["detail"] == (
        "The provider refused the client ID or client secret (invalid_client): check both on the OAuth 2.0 tab."
    )


def test_the_rate_limit_answers_429_with_retry_after(api, auth_server, settings):
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "API_RATE_LIMIT": 3}
    connection = make_hypatos(auth_server)
    key, other = key_for(connection), key_for(connection, name="other")

    assert [api.token(connection.pk, key).status_code for _ in range(3)] == [200] * 3
    limited = api.token(connection.pk, key)

    assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert api.request("GET", "/connections", key).status_code == 429
    assert connection.events.filter(action="token handed out").count() == 3
    assert api.token(connection.pk, other).status_code == 200  # per key


def test_test_connection_through_the_api(api, auth_server):
    connection = make_hypatos(auth_server)
    key = key_for(connection, tokens=False)

    answer = api.request("POST", f"/connections/{connection.pk}/test", key)

    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["passed"] is True and result["status"] == 200 and result["sentence"].startswith("Passed")
    connection.refresh_from_db()
    assert connection.last_test_passed is True
    listing = api.request("GET", "/connections", key).json()["items"]
    assert listing[0]["last_test"]["passed"] is True and listing[0]["last_test"]["message"] == result["sentence"]


def test_no_answer_log_line_or_event_holds_a_token_except_the_token_answer(api, auth_server, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="connectors")
    hypatos = make_hypatos(auth_server)
    inverbis = authorize_inverbis(auth_server)
    reader = key_for(hypatos, inverbis, tokens=False, name="reader")
    key = key_for(hypatos, inverbis, name="writer")
    token_answers = [api.token(hypatos.pk, key), api.token(inverbis.pk, key, force_refresh=True)]
    api.request("GET", "/connections", key)
    api.request("POST", f"/connections/{hypatos.pk}/test", key)
    api.request("POST", f"/connections/{inverbis.pk}/test", reader)
    api.token(hypatos.pk, reader)
    api.token(hypatos.pk + 1000, key)
    expire(inverbis)
    auth_server.revoke_refresh_tokens()
    api.token(inverbis.pk, key)  # 409
    api.request("GET", "/connections", key)
    api.request("GET", "/openapi.json")
    assert all(answer.status_code == 200 for answer in token_answers)

    secrets = {answer.json()["access_token"] for answer in token_answers}
    for connection in Connection.objects.all():
        secrets |= {connection.access_token, connection.refresh_token, connection.client_secret}
    secrets |= {reader, key}
    secrets.discard("")
    assert len(secrets) >= 5
    others = [answer for answer in api.answers if answer not in token_answers]
    assert len(others) >= 7
    texts = [answer.text + json.dumps(dict(answer.headers)) for answer in others]
    texts += [caplog.text]
    texts += [f"{event.action} {event.detail}" for event in Event.objects.all()]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert "token handed out" in caplog.text  # the log was captured


def test_the_openapi_document_validates(api):
    answer = api.request("GET", "/openapi.json")

    assert answer.status_code == 200
    document = answer.json()
    validate(document)
    assert set(document["paths"]) == {
        "/api/v1/connections",
        "/api/v1/connections/{connection_id}/token",
        "/api/v1/connections/{connection_id}/test",
        "/api/v1/connections/{connection_id}/proxy/{path}",
    }
    assert list(document["components"]["securitySchemes"]) == ["ApiKeyAuth"]
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    token = document["paths"]["/api/v1/connections/{connection_id}/token"]["post"]
    assert set(token["responses"]) == {"200", "400", "401", "403", "404", "409", "415", "429", "502"}
    assert token["requestBody"]["content"]["application/json"]["schema"]  # null allowed, see below
    body = document["components"]["schemas"]["TokenIn"]
    assert body["additionalProperties"] is False
    proxy = document["paths"]["/api/v1/connections/{connection_id}/proxy/{path}"]
    assert set(proxy) == {"get", "head", "post", "put", "patch", "delete"}
    listing = document["paths"]["/api/v1/connections"]["get"]
    assert {parameter["name"] for parameter in listing["parameters"]} == {"limit", "cursor", "provider", "health"}
    assert list(token["responses"]["409"]["content"]) == ["application/problem+json"]
    assert list(token["responses"]["200"]["content"]) == ["application/json"]


# --- keys in the admin and on the command line ----------------------------------------------------


def test_a_key_created_in_the_admin_is_shown_once_and_obtains_a_token(api, auth_server, admin_client):
    connection = make_hypatos(auth_server)
    page = admin_client.post(
        "/admin/connectors/apikey/add/",
        {
            "name": "etl",
            "connections": [connection.pk],
            "may_obtain_tokens": "on",
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )

    # POST, redirect, GET: the key is on the page the save leads to.
    assert page.redirect_chain[-1][0].endswith("/created/") and page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]
    raw_key = re.search(r'<code id="pc-api-key"[^>]*>([^<]+)</code>', page.content.decode()).group(1)
    stored = ApiKey.objects.get(name="etl")
    assert stored.key_hash == apikeys.hash_key(raw_key) and raw_key not in stored.key_hash
    # Never again: not on the key's page, not in the list.
    for url in (f"/admin/connectors/apikey/{stored.pk}/change/", "/admin/connectors/apikey/"):
        text = admin_client.get(url).content.decode()
        assert raw_key not in text and f"pc_{stored.key_prefix}_" in text

    answer = api.token(connection.pk, raw_key)
    assert answer.status_code == 200 and answer.json()["access_token"]


def test_the_docs_curl_example_obtains_a_token_with_a_key_created_in_the_admin(api, auth_server, admin_client):
    connection = make_hypatos(auth_server)
    page = admin_client.post(
        "/admin/connectors/apikey/add/",
        {"name": "curl", "connections": [connection.pk], "may_obtain_tokens": "on"},
        follow=True,
    )
    raw_key = re.search(r'<code id="pc-api-key"[^>]*>([^<]+)</code>', page.content.decode()).group(1)
    guide = (Path(__file__).resolve().parents[2] / "docs" / "using-tokens.md").read_text()
    example = re.search(r"```sh\n(curl .*?)\n#", guide.split("\n## The HTTP API\n", 1)[1], re.S).group(1)
    # The documented command as it stands, pointed at the live server and connection.
    command = example.replace("https://connections.example.com", api.base.removesuffix("/api/v1"))
    command = command.replace("/connections/3/", f"/connections/{connection.pk}/")

    result = subprocess.run(
        ["bash", "-c", command], env={"PATH": os.environ["PATH"], "KEY": raw_key}, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    connection.refresh_from_db()
    assert body["access_token"] == connection.access_token and body["expires_in"] > 300


def test_a_key_needs_a_connection_or_provider_and_a_future_expiry(admin_client):
    page = admin_client.post("/admin/connectors/apikey/add/", {"name": "nothing"})
    assert page.status_code == 200
    assert "Choose at least one connection or provider" in page.content.decode()
    page = admin_client.post(
        "/admin/connectors/apikey/add/",
        {"name": "past", "providers": ["hypatos"], "expires_at_0": "2020-01-01", "expires_at_1": "00:00:00"},
    )
    assert "Choose a moment in the future" in page.content.decode()
    assert not ApiKey.objects.exists()


def test_revoking_in_the_admin_stops_the_key(api, auth_server, admin_client):
    connection = make_hypatos(auth_server)
    key = key_for(connection)
    stored = ApiKey.objects.get()

    admin_client.post(
        "/admin/connectors/apikey/", {"action": "revoke_selected", "_selected_action": [stored.pk]}, follow=True
    )

    stored.refresh_from_db()
    assert stored.revoked_at is not None
    assert_problem(api.token(connection.pk, key), 401, "invalid-key")


def test_only_superusers_and_key_managers_manage_keys(client, staff_factory):
    # Staff who may change every connection still may not hand out tokens.
    everything_else = ["view_connection", "change_hypatosconnection", "add_hypatosconnection"]
    client.force_login(staff_factory("ops", *everything_else))
    assert client.get("/admin/connectors/apikey/").status_code == 403
    assert client.get("/admin/connectors/apikey/add/").status_code == 403
    client.force_login(staff_factory("keeper", "manage_api_keys"))
    assert client.get("/admin/connectors/apikey/").status_code == 200
    assert client.get("/admin/connectors/apikey/add/").status_code == 200


def test_create_api_key_command_prints_the_key_once(api, auth_server, capsys):
    from django.core.management import call_command

    connection = make_hypatos(auth_server)
    call_command("create_api_key", "cron", "--connection", str(connection.pk), "--tokens", "--expires", "30")

    raw_key = capsys.readouterr().out.strip()
    stored = ApiKey.objects.get(name="cron")
    assert stored.may_obtain_tokens and [c.pk for c in stored.connections.all()] == [connection.pk]
    assert timedelta(days=29) < stored.expires_at - timezone.now() <= timedelta(days=30)
    assert api.token(connection.pk, raw_key).status_code == 200
