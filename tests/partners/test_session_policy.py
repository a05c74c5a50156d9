"""connection.session() follows the same outbound policy as token traffic: allowed origins checked
before the token is attached, a total deadline, no redirects followed, a size cap. And the OAuth
state is used up durably before the code is exchanged."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.backends.db import SessionStore

from connectors.core import failures
from connectors.engine import authorization
from connectors.engine.state import SESSION_KEY
from tests.connections import inverbis_form, make_hypatos, make_inverbis
from tests.forms_data import change_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(auth_server):
    return make_hypatos(auth_server)


def test_an_allowed_api_request_carries_the_token(auth_server, connection):
    response = connection.session().get(f"{auth_server.hypatos_endpoint}/projects?limit=1")
    assert response.status_code == 200 and "data" in response.json()


def test_a_url_off_the_allowed_origins_is_refused_before_any_token_is_fetched(auth_server, connection, settings):
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "EXTRA_ALLOWED_HOSTS": [f"127.0.0.1:{auth_server.port}"],
    }
    auth_server.reset_stats()
    for url in ("https://attacker.example/collect", "http://127.0.0.1:1/elsewhere", "ftp://127.0.0.1/x"):
        with pytest.raises(failures.OAuthFailure) as raised:
            connection.session().get(url)
        assert raised.value.kind == "blocked_host"
    assert auth_server.stats()["total"] == 0
    connection.refresh_from_db()
    assert not connection.access_token


@pytest.fixture
def api_at_fault_server(auth_server, fault_server):
    """A connection whose API base is the misbehaving server (its token comes from the real one)."""
    return make_hypatos(auth_server, endpoint_url=fault_server.url("/v2"))


def test_redirects_are_not_followed(api_at_fault_server, fault_server):
    fault_server.reset()
    response = api_at_fault_server.session().get(fault_server.url("/redirect?to=/token-ok"))
    assert response.status_code == 302
    assert fault_server.requests_to("/token-ok") == []


def test_an_oversized_answer_is_refused(api_at_fault_server, fault_server):
    with pytest.raises(failures.OAuthFailure) as raised:
        api_at_fault_server.session().get(fault_server.url("/huge?mb=2"))
    assert raised.value.kind == "too_large"


def test_a_slow_drip_is_cut_at_the_deadline(api_at_fault_server, fault_server, settings):
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "HTTP_TIMEOUT": 1}
    api_at_fault_server.get_access_token()  # the token first: the deadline is the API request's
    started = time.monotonic()
    with pytest.raises(failures.OAuthFailure) as raised:
        api_at_fault_server.session().get(fault_server.url("/drip?every=0.3"))
    assert raised.value.kind == "timeout"
    assert time.monotonic() - started < 3


def test_the_state_is_used_up_even_when_the_exchange_fails_unexpectedly(admin_client, auth_server, monkeypatch):
    connection = make_inverbis(auth_server)
    data = {**inverbis_form(auth_server), "_generate": "1"}
    started = admin_client.post(change_url("inverbisconnection", connection.pk), data)
    query = parse_qs(urlsplit(started["Location"]).query)
    state = query["state"][0]
    session_key = admin_client.session.session_key
    assert state in SessionStore(session_key=session_key)[SESSION_KEY]

    def broken(*args, **kwargs):  # a fault no server produces on demand: a bug after consume()
        raise RuntimeError("unexpected")

    monkeypatch.setattr(authorization, "exchange_code", broken)
    callback = urlsplit(query["redirect_uri"][0]).path
    with pytest.raises(RuntimeError):
        admin_client.get(callback, {"state": state, "code": "any", "iss": f"{auth_server.base_url}/auth/realms/acme"})
    assert state not in SessionStore(session_key=session_key).get(SESSION_KEY, {})
