"""What a careful OAuth client does, against the suite's real authorization server (made strict
where the standards let a server be strict): HTTP Basic with form-encoded credentials (RFC 6749
§2.3.1), prompt=consent with offline_access (OpenID Connect Core §11) and the granted scope
checked, the provider's own words on a denial, and RFC 7009 revocation of refresh tokens that are
deleted or replaced."""

import dataclasses
import logging
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.contrib.messages import get_messages
from requests.auth import HTTPBasicAuth

from connectors.engine import tokens
from connectors.models import Connection, InverbisConnection
from connectors.partners.providers import PROVIDERS
from tests.connections import inverbis_form, make_hypatos, make_inverbis
from tests.forms_data import change_url

pytestmark = pytest.mark.django_db


def start(client, connection, server, **form):
    data = {**inverbis_form(server), "name": connection.name, **form, "_generate": "1"}
    response = client.post(change_url("inverbisconnection", connection.pk), data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def come_back(client, callback_url):
    parts = urlsplit(callback_url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302
    return response, " ".join(str(m) for m in get_messages(response.wsgi_request))


def authorize(client, connection, server, **form):
    """Generate (or Regenerate), log in and consent at the server, come back; the messages."""
    callback = server.authorize(start(client, connection, server, **form))
    return come_back(client, callback)[1]


def refresh_status(server, refresh_token):
    """What the token endpoint says to this refresh token now (the raw OAuth answer)."""
    response = requests.post(
        server.inverbis_token_url,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": server.inverbis_client_id},
        timeout=10,
    )
    return response.status_code, response.json().get("error")


# -- client_secret_basic: form-encoded before Base64 (RFC 6749 §2.3.1) --------------------------


def test_the_strict_server_refuses_raw_basic_credentials(auth_server):
    # The server decodes per the RFC: the same credentials sent raw are not the client's.
    response = requests.post(
        auth_server.hypatos_token_url,
        data={"grant_type": "client_credentials"},
        auth=HTTPBasicAuth(auth_server.hypatos_strict_client_id, auth_server.hypatos_strict_client_secret),
        timeout=10,
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_an_id_and_secret_with_special_characters_are_form_encoded(auth_server):
    client_id, secret = auth_server.hypatos_strict_client_id, auth_server.hypatos_strict_client_secret
    assert all(character in secret for character in "+/=%: ") and ":" in client_id and "+" in client_id
    connection = make_hypatos(auth_server, client_id=client_id, client_secret=secret)
    token = tokens.get_access_token(connection)
    status = requests.get(
        f"{auth_server.hypatos_endpoint}/projects?limit=1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).status_code
    assert status == 200


# -- offline_access: prompt=consent, and the granted scope compared ----------------------------


def test_offline_access_sends_prompt_consent_and_is_granted(admin_client, auth_server):
    connection = make_inverbis(auth_server, scope="openid offline_access")
    authorize_url = start(admin_client, connection, auth_server)
    assert parse_qs(urlsplit(authorize_url).query)["prompt"] == ["consent"]
    _, said = come_back(admin_client, auth_server.authorize(authorize_url))
    assert said.startswith("Authorized:") and "offline_access" not in said
    connection.refresh_from_db()
    assert set(connection.token_scope.split()) == {"openid", "offline_access"}
    assert not connection.events.filter(action="scope not granted").exists()


def test_no_prompt_without_offline_access(admin_client, auth_server):
    connection = make_inverbis(auth_server, scope="openid")
    authorize_url = start(admin_client, connection, auth_server, scope="openid")
    assert "prompt" not in parse_qs(urlsplit(authorize_url).query)


def test_a_dropped_offline_access_is_shown_and_recorded(admin_client, auth_server):
    connection = make_inverbis(auth_server, scope="openid offline_access")
    authorize_url = start(admin_client, connection, auth_server)
    # As a strict provider does when prompt=consent is missing: offline_access is ignored.
    parts = urlsplit(authorize_url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items() if key != "prompt"}
    _, said = come_back(
        admin_client, auth_server.authorize(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}")
    )
    assert said.startswith("Authorized:")
    assert "did not grant offline_access" in said and "Regenerate" in said
    event = connection.events.get(action="scope not granted")
    assert not event.succeeded and "offline_access" in event.detail


# -- a denial shows the provider's own words --------------------------------------------------


def test_access_denied_shows_the_providers_description_escaped_and_cut(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    state = parse_qs(urlsplit(start(admin_client, connection, auth_server)).query)["state"][0]
    description = (
        "<b>Your account</b> lacks\u202e the role\u200b “integrations”.\r\nSecond sentence with more detail. "
        + "x" * 400
    )
    # As the server answers: at the connection's own callback URL, naming itself (RFC 9207).
    issuer = f"{auth_server.base_url}/auth/realms/acme"
    query = urlencode({"state": state, "error": "access_denied", "error_description": description, "iss": issuer})
    response, said = come_back(admin_client, f"/oauth/callback/{connection.pk}/?{query}")
    assert said == ("The provider denied the authorization: “<b>Your account</b> lacks the role “integrations”.”")
    page = admin_client.get(response["Location"]).content.decode()
    assert "&lt;b&gt;Your account&lt;/b&gt; lacks the role" in page
    assert "<b>Your account</b>" not in page and "Second sentence" not in page and "\u202e" not in page
    assert not Connection.objects.get(pk=connection.pk).access_token


def test_access_denied_without_description_says_the_operator_denied(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    callback = auth_server.authorize(start(admin_client, connection, auth_server), allow=False)
    assert come_back(admin_client, callback)[1] == "Authorization was denied at the provider's login page."


# -- RFC 7009: revoked when deleted or replaced -------------------------------------------------


def authorized_inverbis(admin_client, auth_server, **fields):
    connection = make_inverbis(auth_server, **fields)
    assert authorize(admin_client, connection, auth_server).startswith("Authorized:")
    connection.refresh_from_db()
    assert connection.refresh_token
    return connection


def test_deleting_a_connection_revokes_its_refresh_token(
    admin_client, auth_server, django_capture_on_commit_callbacks, caplog
):
    connection = authorized_inverbis(admin_client, auth_server)
    refresh_token = connection.refresh_token
    auth_server.reset_stats()
    caplog.set_level(logging.INFO, logger="connectors.store.events")
    url = f"/admin/connectors/inverbisconnection/{connection.pk}/delete/"
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Connection.objects.filter(pk=connection.pk).exists()
    assert auth_server.stats()["revocations"] == {"inverbis": 1}
    assert refresh_status(auth_server, refresh_token) == (400, "invalid_grant")
    assert f"connection {connection.pk} (Inverbis local) deleted: The previous refresh token was revoked" in caplog.text
    assert refresh_token not in caplog.text


def test_a_queryset_delete_outside_the_admin_revokes_too(admin_client, auth_server, django_capture_on_commit_callbacks):
    connection = authorized_inverbis(admin_client, auth_server)
    auth_server.reset_stats()
    with django_capture_on_commit_callbacks(execute=True):
        Connection.objects.filter(pk=connection.pk).delete()
    assert auth_server.stats()["revocations"] == {"inverbis": 1}
    assert refresh_status(auth_server, connection.refresh_token) == (400, "invalid_grant")


def test_no_revocation_where_it_would_end_another_connections_grant(
    admin_client, auth_server, django_capture_on_commit_callbacks, caplog
):
    # Keycloak ends the client's whole grant for the user: a second connection of the same client
    # at the same realm would lose its authorization too.
    first = authorized_inverbis(admin_client, auth_server)
    second = authorized_inverbis(admin_client, auth_server, name="Inverbis second")
    auth_server.reset_stats()
    caplog.set_level(logging.INFO, logger="connectors.store.events")
    with django_capture_on_commit_callbacks(execute=True):
        first.delete()
    assert auth_server.stats()["revocations"] == {}
    assert "not revoked, because another connection uses the same client" in caplog.text
    second.refresh_from_db()
    assert refresh_status(auth_server, second.refresh_token)[0] == 200


def test_a_failing_revocation_does_not_block_the_deletion(
    admin_client, auth_server, django_capture_on_commit_callbacks, caplog
):
    # Nothing listens on port 1: the revocation fails at once, the deletion stands.
    dead = "http://127.0.0.1:1/auth/realms/acme/protocol/openid-connect/token"
    connection = make_inverbis(auth_server, token_url=dead, refresh_token="a-refresh-token", access_token="a")
    caplog.set_level(logging.INFO, logger="connectors.store.events")
    url = f"/admin/connectors/inverbisconnection/{connection.pk}/delete/"
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Connection.objects.filter(pk=connection.pk).exists()
    record = next(r for r in caplog.records if "deleted" in r.getMessage())
    assert record.levelno == logging.WARNING
    assert "could not be revoked" in record.getMessage() and "connection refused" in record.getMessage()
    assert "a-refresh-token" not in caplog.text


def test_a_rolled_back_deletion_revokes_nothing(admin_client, auth_server, django_capture_on_commit_callbacks):
    from django.db import transaction

    connection = authorized_inverbis(admin_client, auth_server)
    auth_server.reset_stats()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                InverbisConnection.objects.get(pk=connection.pk).delete()
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
    assert callbacks == [] and auth_server.stats()["revocations"] == {}
    assert Connection.objects.filter(pk=connection.pk).exists()


def test_a_host_change_revokes_the_dropped_refresh_token_where_it_was_issued(
    admin_client, auth_server, django_capture_on_commit_callbacks, settings
):
    connection = authorized_inverbis(admin_client, auth_server)
    old = connection.refresh_token
    auth_server.reset_stats()
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "EXTRA_ALLOWED_HOSTS": ["127.0.0.1:1-65535", "localhost:1-65535"],
    }
    moved = {
        name: inverbis_form(auth_server)[name].replace("127.0.0.1", "localhost")
        for name in ("authorization_url", "token_url")
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            change_url("inverbisconnection", connection.pk), {**inverbis_form(auth_server), **moved}
        )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert not connection.refresh_token and connection.token_url == moved["token_url"]
    assert auth_server.stats()["revocations"] == {"inverbis": 1}
    assert refresh_status(auth_server, old) == (400, "invalid_grant")
    assert "revoked at 127.0.0.1" in connection.events.get(action="revoked").detail


def test_regenerate_revokes_the_replaced_refresh_token(
    admin_client, auth_server, django_capture_on_commit_callbacks, monkeypatch
):
    # A provider that revokes one token at a time (RFC 7009's baseline, as the suite's server does).
    monkeypatch.setitem(PROVIDERS, "inverbis", dataclasses.replace(PROVIDERS["inverbis"], revocation_ends_grant=False))
    connection = authorized_inverbis(admin_client, auth_server)
    old = connection.refresh_token
    auth_server.reset_stats()
    callback = auth_server.authorize(start(admin_client, connection, auth_server))
    with django_capture_on_commit_callbacks(execute=True):
        said = come_back(admin_client, callback)[1]
    assert said.startswith("Authorized:")
    connection.refresh_from_db()
    assert connection.refresh_token and connection.refresh_token != old
    assert auth_server.stats()["revocations"] == {"inverbis": 1}
    assert refresh_status(auth_server, old) == (400, "invalid_grant")
    event = connection.events.get(action="revoked")
    assert event.succeeded and "revoked at 127.0.0.1" in event.detail
    # The new authorization is untouched.
    assert tokens.get_access_token(connection, margin=10**9)


def test_regenerate_at_a_provider_whose_revocation_ends_the_grant_keeps_it(
    admin_client, auth_server, django_capture_on_commit_callbacks
):
    assert PROVIDERS["inverbis"].revocation_ends_grant  # Keycloak
    connection = authorized_inverbis(admin_client, auth_server)
    auth_server.reset_stats()
    callback = auth_server.authorize(start(admin_client, connection, auth_server))
    with django_capture_on_commit_callbacks(execute=True):
        assert come_back(admin_client, callback)[1].startswith("Authorized:")
    assert auth_server.stats()["revocations"] == {}
    assert "would also end the new authorization" in connection.events.get(action="revocation skipped").detail


def test_a_failed_revocation_after_regenerate_keeps_the_new_authorization(
    admin_client, auth_server, django_capture_on_commit_callbacks, monkeypatch
):
    provider = dataclasses.replace(PROVIDERS["inverbis"], revocation_ends_grant=False)
    monkeypatch.setitem(PROVIDERS, "inverbis", provider)
    connection = authorized_inverbis(admin_client, auth_server)
    monkeypatch.setattr(type(provider), "revocation_url", lambda self, c: "http://127.0.0.1:1/revoke")
    callback = auth_server.authorize(start(admin_client, connection, auth_server))
    with django_capture_on_commit_callbacks(execute=True):
        assert come_back(admin_client, callback)[1].startswith("Authorized:")
    event = connection.events.get(action="revocation failed")
    assert not event.succeeded and "could not be revoked" in event.detail
    connection.refresh_from_db()
    assert connection.status == "authorized" and tokens.get_access_token(connection, margin=10**9)
