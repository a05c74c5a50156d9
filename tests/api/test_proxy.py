"""The proxy as a consumer uses it: the partner's answer without ever holding the token, only the
connection's own API base URL, its own key permission, one renewal on a 401, counted per minute."""

import http.client
from urllib.parse import urlsplit

import pytest

from connectors.models import ApiKey, Connection, ProxyUsage
from connectors.store import proxy_usage
from tests.api.helpers import assert_problem, key_for
from tests.connections import make_hypatos

pytestmark = pytest.mark.django_db(transaction=True)


def proxy_key(*connections, methods=("GET",)):
    raw_key = key_for(*connections, tokens=False, name="proxy-consumer")
    ApiKey.objects.filter(name="proxy-consumer").update(may_proxy=True, proxy_methods=list(methods))
    return raw_key


@pytest.fixture
def partner(auth_server, fault_server):
    """A Hypatos connection whose API is the recording fault server (tokens from the real server)."""
    fault_server.reset()
    fault_server.scripted.clear()
    return make_hypatos(auth_server, endpoint_url=fault_server.url("/v2"), token_url=auth_server.hypatos_token_url)


def test_a_consumer_calls_the_partner_without_holding_the_token(api, auth_server):
    connection = make_hypatos(auth_server)
    key = proxy_key(connection)

    answer = api.request("GET", f"/connections/{connection.pk}/proxy/projects?limit=1", key)

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"][0]["id"] == "project-1"  # the partner accepted the token
    connection.refresh_from_db()
    assert connection.access_token and connection.access_token not in answer.text + str(answer.headers)
    assert "no-store" in answer.headers["Cache-Control"]


def test_what_reaches_the_partner_and_what_comes_back(api, partner, fault_server):
    key = proxy_key(partner, methods=("GET", "POST"))
    fault_server.script(
        "/v2/things",
        201,
        {"Content-Type": "application/json", "ETag": '"v1"', "Set-Cookie": "partner=1", "WWW-Authenticate": "x"},
        b'{"made": true}',
    )

    answer = api.request(
        "POST",
        f"/connections/{partner.pk}/proxy/things?dry=1",
        key,
        data=b'{"name": "x"}',
        headers={"Content-Type": "application/json", "Cookie": "mine=1", "X-Forwarded-For": "10.0.0.1"},
    )

    assert answer.status_code == 201 and answer.json() == {"made": True}
    assert answer.headers["ETag"] == '"v1"'
    assert "Set-Cookie" not in answer.headers and "WWW-Authenticate" not in answer.headers
    (sent,) = fault_server.requests_to("/v2/things")
    partner.refresh_from_db()
    assert sent["method"] == "POST" and sent["query"] == "dry=1" and sent["body"] == b'{"name": "x"}'
    assert sent["headers"]["Authorization"] == f"Bearer {partner.access_token}"  # never the API key
    assert "Cookie" not in sent["headers"] and "X-Forwarded-For" not in sent["headers"]


def test_a_partners_error_answer_comes_back_as_it_is(api, partner, fault_server):
    key = proxy_key(partner)
    fault_server.script("/v2/missing", 404, {"Content-Type": "text/html"}, b"<html>gone</html>")

    answer = api.request("GET", f"/connections/{partner.pk}/proxy/missing", key)

    assert answer.status_code == 404 and answer.text == "<html>gone</html>"
    assert answer.headers["Content-Type"] == "text/html"


@pytest.mark.parametrize(
    "path",
    [
        "../auth/token",
        "a/../../auth/token",
        "%2e%2e/auth/token",
        "a//b",
        "x@evil.example/y",
        "https:%2F%2Fevil.example/x",
        "a%5Cb",
    ],
)
def test_a_path_that_would_leave_the_base_url_is_refused_before_anything_is_sent(
    api, partner, fault_server, live_server, path
):
    key = proxy_key(partner)
    # http.client sends the path exactly as written (requests would normalise dot segments).
    server = urlsplit(live_server.url)
    client = http.client.HTTPConnection(server.hostname, server.port, timeout=10)
    client.request("GET", f"/api/v1/connections/{partner.pk}/proxy/{path}", headers={"Authorization": f"Bearer {key}"})
    answer = client.getresponse()
    body = answer.read().decode()
    client.close()

    assert answer.status in (400, 404), body
    assert answer.getheader("Content-Type") == "application/problem+json"
    assert fault_server.request_count == 0


def test_the_proxy_needs_its_own_permission_and_method(api, partner, fault_server):
    token_key = key_for(partner, name="tokens-only")
    get_only = proxy_key(partner)

    assert_problem(api.request("GET", f"/connections/{partner.pk}/proxy/projects", token_key), 403, "proxy-not-allowed")
    refused = assert_problem(
        api.request("POST", f"/connections/{partner.pk}/proxy/projects", get_only, json={}), 403, "proxy-not-allowed"
    )
    assert "GET" in refused["detail"] and "POST" in refused["detail"]
    assert fault_server.request_count == 0


def test_another_connection_is_not_found(api, partner, auth_server):
    other = make_hypatos(auth_server, name="other")
    key = proxy_key(partner)
    assert_problem(api.request("GET", f"/connections/{other.pk}/proxy/projects", key), 404, "not-found")


def test_a_refused_token_is_renewed_once_and_the_call_repeated(api, auth_server):
    connection = make_hypatos(auth_server)
    key = proxy_key(connection)
    assert api.request("GET", f"/connections/{connection.pk}/proxy/projects", key).status_code == 200
    before = Connection.objects.get(pk=connection.pk).access_token
    auth_server.expire_access_tokens()  # the partner refuses the stored, unexpired token
    auth_server.reset_stats()

    answer = api.request("GET", f"/connections/{connection.pk}/proxy/projects", key)

    assert answer.status_code == 200, answer.text
    assert auth_server.stats()["total"] == 1  # one renewal
    assert Connection.objects.get(pk=connection.pk).access_token != before


def test_calls_are_counted_per_minute_not_logged_per_call(api, partner, fault_server, admin_client):
    key = proxy_key(partner)
    fault_server.script("/v2/ok", 200, {"Content-Type": "application/json"}, b"{}")
    fault_server.script("/v2/down", 503, {"Content-Type": "text/plain"}, b"down")
    events_before = partner.events.count()

    for path in ("ok", "ok", "ok", "down"):
        api.request("GET", f"/connections/{partner.pk}/proxy/{path}", key)

    assert proxy_usage.recent(partner.pk) == (4, 1)
    assert ProxyUsage.objects.filter(connection=partner).count() == 1
    assert partner.events.count() == events_before + 1  # the first token, not the calls
    page = admin_client.get(f"/admin/connectors/hypatosconnection/{partner.pk}/change/").content.decode()
    assert "Proxied calls" in page and "4 (1 failed)" in page


def test_a_key_made_in_the_admin_may_proxy_the_methods_ticked(api, partner, fault_server, admin_client):
    import re

    fault_server.script("/v2/things", 200, {"Content-Type": "application/json"}, b"{}")
    page = admin_client.post(
        "/admin/connectors/apikey/add/",
        {"name": "etl-proxy", "connections": [partner.pk], "may_proxy": "on", "proxy_methods": ["GET", "POST"]},
        follow=True,
    )
    assert page.status_code == 200, page.content.decode()[:2000]
    raw_key = re.search(r'<code id="pc-api-key"[^>]*>([^<]+)</code>', page.content.decode()).group(1)
    stored = ApiKey.objects.get(name="etl-proxy")
    assert stored.may_proxy and stored.proxy_methods == ["GET", "POST"] and not stored.may_obtain_tokens

    assert api.request("POST", f"/connections/{partner.pk}/proxy/things", raw_key, json={}).status_code == 200
    assert_problem(api.request("DELETE", f"/connections/{partner.pk}/proxy/things", raw_key), 403, "proxy-not-allowed")
    assert_problem(api.token(partner.pk, raw_key), 403, "tokens-not-allowed")


def test_a_partners_redirect_is_passed_back_not_followed(api, partner, fault_server):
    key = proxy_key(partner)
    fault_server.script("/v2/moved", 302, {"Location": "https://elsewhere.example/steal"}, b"")

    answer = api.request("GET", f"/connections/{partner.pk}/proxy/moved", key, allow_redirects=False)

    assert answer.status_code == 302 and answer.headers["Location"] == "https://elsewhere.example/steal"
    assert [request["path"] for request in fault_server.requests] == ["/v2/moved"]  # nothing followed


def test_counts_past_the_events_retention_are_dropped(partner, settings):
    import time_machine

    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "EVENT_RETENTION_DAYS": 30}
    with time_machine.travel("2026-01-01 12:00:30Z", tick=False):
        proxy_usage.count_proxied(partner.pk)
    with time_machine.travel("2026-01-20 12:00:30Z", tick=False):
        proxy_usage.count_proxied(partner.pk, failed=True)
    assert ProxyUsage.objects.filter(connection=partner).count() == 2
    with time_machine.travel("2026-02-05 12:00:30Z", tick=False):
        proxy_usage.count_proxied(partner.pk)
        assert proxy_usage.recent(partner.pk, hours=24 * 40) == (2, 1)  # January 1st is gone
    assert ProxyUsage.objects.filter(connection=partner).count() == 2
