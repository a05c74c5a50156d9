"""The OAuth mix-up defence (RFC 9700 §4.4, RFC 9207): one connection's authorization server can
never have another connection's code, with its PKCE verifier, sent to it. Each connection has its
own callback URL checked against the state, and an `iss` in the answer must name the
connection's own server (required when the server advertises it)."""

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.messages import get_messages

from connectors.engine.state import SESSION_KEY
from connectors.models import Connection
from tests.connections import inverbis_form, make_inverbis
from tests.forms_data import change_url

pytestmark = pytest.mark.django_db


def generate(client, connection, form):
    response = client.post(change_url("inverbisconnection", connection.pk), {**form, "_generate": "1"})
    assert response.status_code == 302
    return {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}


def follow(client, url):
    response = client.get(url)
    assert response.status_code == 302
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def assert_nothing_stored(*connections):
    for connection in connections:
        assert not Connection.objects.get(pk=connection.pk).access_token


@pytest.fixture
def evil(auth_server, fault_server):
    """A connection whose authorization server is the attacker's (any allowed host she controls)."""
    realm = fault_server.url("/auth/realms/evil/protocol/openid-connect")
    # Its realm answers the discovery check before Generate, as any identity server would.
    document = {"issuer": fault_server.url("/auth/realms/evil"), "authorization_endpoint": f"{realm}/auth"}
    fault_server.script(
        "/auth/realms/evil/.well-known/openid-configuration",
        200,
        {"Content-Type": "application/json"},
        json.dumps(document).encode(),
    )
    return make_inverbis(
        auth_server, name="Evil", authorization_url=f"{realm}/auth", token_url=f"{realm}/token", client_id="evil"
    )


def evil_form(auth_server, evil):
    return {
        **inverbis_form(auth_server),
        "name": "Evil",
        "client_id": "evil",
        "authorization_url": evil.authorization_url,
        "token_url": evil.token_url,
    }


def test_the_honest_servers_code_never_reaches_the_attackers_token_endpoint(
    admin_client, auth_server, fault_server, evil
):
    honest = make_inverbis(auth_server, name="Honest")
    fault_server.reset()
    # The operator clicks Generate on the evil connection; its server sends the browser on to the
    # honest server's login with the honest client and the evil flow's state, redirect URI and
    # PKCE challenge.
    started = generate(admin_client, evil, evil_form(auth_server, evil))
    hijack = (
        auth_server.inverbis_auth_url
        + "?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": auth_server.inverbis_client_id,
                "redirect_uri": started["redirect_uri"],
                "state": started["state"],
                "code_challenge": started["code_challenge"],
                "code_challenge_method": "S256",
                "scope": "openid offline_access",
            }
        )
    )
    back = urlsplit(auth_server.authorize(hijack))
    message = follow(admin_client, f"{back.path}?{back.query}")
    assert "another authorization server" in message
    token_requests = [r for r in fault_server.requests if r["path"].endswith("/token")]
    assert token_requests == []  # neither the code nor the PKCE verifier left
    assert_nothing_stored(evil, honest)


def test_an_answer_at_another_connections_callback_is_refused(admin_client, auth_server):
    first, second = make_inverbis(auth_server), make_inverbis(auth_server, name="Second")
    started = generate(admin_client, first, inverbis_form(auth_server))
    back = urlsplit(auth_server.authorize(auth_server.inverbis_auth_url + "?" + urlencode(started)))
    auth_server.reset_stats()
    message = follow(admin_client, f"/oauth/callback/{second.pk}/?{back.query}")
    assert "another connection's callback URL" in message
    assert auth_server.stats()["total"] == 0
    assert_nothing_stored(first, second)
    # Used up: not even the right callback accepts it now.
    assert "already used" in follow(admin_client, f"{back.path}?{back.query}")


def test_an_answer_at_the_shared_callback_is_refused_for_a_per_connection_flow(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    started = generate(admin_client, connection, inverbis_form(auth_server))
    back = urlsplit(auth_server.authorize(auth_server.inverbis_auth_url + "?" + urlencode(started)))
    assert back.path == f"/oauth/callback/{connection.pk}/"
    assert "shared callback URL" in follow(admin_client, f"/oauth/callback/?{back.query}")
    assert_nothing_stored(connection)


@pytest.mark.parametrize("iss", ["https://identity.inverbisanalytics.com/auth/realms/acme", None])
def test_a_wrong_or_missing_iss_is_refused_when_the_server_advertises_it(admin_client, auth_server, iss):
    connection = make_inverbis(auth_server)
    started = generate(admin_client, connection, inverbis_form(auth_server))
    back = urlsplit(auth_server.authorize(auth_server.inverbis_auth_url + "?" + urlencode(started)))
    query = {key: values[0] for key, values in parse_qs(back.query).items()}
    assert query["iss"] == f"{auth_server.base_url}/auth/realms/acme"  # the honest answer names its server
    query = {**query, "iss": iss} if iss else {k: v for k, v in query.items() if k != "iss"}
    auth_server.reset_stats()
    message = follow(admin_client, f"{back.path}?{urlencode(query)}")
    assert "nothing was exchanged" in message
    assert auth_server.stats()["total"] == 0
    assert_nothing_stored(connection)


def test_a_flow_started_before_the_upgrade_completes_at_the_shared_callback(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    started = generate(admin_client, connection, inverbis_form(auth_server))
    session = admin_client.session
    for record in session[SESSION_KEY].values():  # what older versions stored
        for key in ("redirect_uri", "issuer", "issuer_required"):
            record.pop(key)
    session.save()
    legacy = {**started, "redirect_uri": "http://127.0.0.1:8000/oauth/callback/"}
    back = urlsplit(auth_server.authorize(auth_server.inverbis_auth_url + "?" + urlencode(legacy)))
    assert back.path == "/oauth/callback/"
    assert "Authorized" in follow(admin_client, f"{back.path}?{back.query}")
