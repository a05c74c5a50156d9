"""A token goes only to its own connection's origins (issue 16, found item 3): its API base and
its test request, not every host EXTRA_ALLOWED_HOSTS allows (another partner's sandbox) and not
another port of its own host. And a partner's account name is cleaned like its other words
(item 9)."""

import pytest

from connectors.core import failures
from connectors.partners import accounts
from tests.connections import make_generic, make_hypatos

pytestmark = pytest.mark.django_db


def test_the_session_sends_the_token_to_the_api_base_only(auth_server, fault_server, settings):
    # Both servers are on 127.0.0.1, allowed on any port by the test settings, and localhost too:
    # allowed for some connection, but not this one's API.
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "EXTRA_ALLOWED_HOSTS": ["127.0.0.1:1-65535", "localhost:1-65535"],
    }
    connection = make_hypatos(auth_server)
    session = connection.session()
    assert session.get(f"{auth_server.hypatos_endpoint}/projects?limit=1").status_code == 200
    token = connection.access_token
    fault_server.reset()
    elsewhere = [
        fault_server.url("/v2/projects"),  # another port of the same host
        auth_server.hypatos_endpoint.replace("127.0.0.1", "localhost") + "/projects",  # another host
    ]
    for url in elsewhere:
        with pytest.raises(failures.OAuthFailure) as raised:
            session.get(url)
        assert raised.value.kind == "not_own_origin"
        assert token not in str(raised.value.message)
    assert fault_server.requests == []


def test_the_token_origins_are_the_api_base_and_the_test_request(auth_server):
    from connectors.store import policy

    connection = make_generic(auth_server, probe_url=auth_server.url("/v2/projects"))
    assert policy.token_origins(connection) == {("http", "127.0.0.1", auth_server.port)}
    assert policy.may_carry_token(connection, auth_server.generic_userinfo_url)
    assert not policy.may_carry_token(connection, "http://127.0.0.1:1/oidc/userinfo")
    assert not policy.may_carry_token(connection, "not a url")


def test_an_account_name_with_bidi_controls_is_cleaned(auth_server, fault_server):
    fault_server.script(
        "/userinfo-spoof",
        200,
        {"Content-Type": "application/json"},
        '{"preferred_username": "admin\u202egnp.exe\u200b"}'.encode(),
    )
    connection = make_generic(auth_server, userinfo_url=fault_server.url("/userinfo-spoof"), probe_url="")
    # Each hidden character shows as a space, so the name reads as what it is.
    assert accounts.account_of_token(connection, "a-token") == "admin gnp.exe"


def test_an_extra_host_without_a_port_allows_only_the_default_port(admin_client, auth_server, fault_server, settings):
    # Issue 16, found item 11: "127.0.0.1" used to allow every port of it, so Test Connection
    # from the add page told open ports from closed ones.
    from tests.connections import hypatos_form

    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "EXTRA_ALLOWED_HOSTS": ["127.0.0.1"]}
    fault_server.reset()
    data = hypatos_form(auth_server, endpoint_url=fault_server.url("/v2"), token_url=fault_server.url("/token-ok"))
    answer = admin_client.post(
        "/admin/connectors/hypatosconnection/test-connection/", data, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200 and not answer.json()["passed"]
    assert "The host “127.0.0.1” is not" in answer.json()["message"]
    assert fault_server.requests == []
