"""The generic OpenID Connect / OAuth 2.0 provider through the admin, against the suite's real
authorization server: discovery fills the endpoints on save, then each grant with the client
authentication the operator chose. (The browser journey: tests/browser/test_generic_journey.py.)"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages

from connectors.models import Connection, GenericConnection, Status
from tests.connections import generic_form, make_hypatos
from tests.forms_data import add_url, change_url

pytestmark = pytest.mark.django_db

MODEL = "genericconnection"


def run_test(client, pk=None, data=None):
    url = f"/admin/connectors/{MODEL}/{pk}/test-connection/" if pk else f"/admin/connectors/{MODEL}/test-connection/"
    response = client.post(url, data or {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_saving_an_issuer_discovers_the_endpoints_which_stay_editable(admin_client, auth_server):
    response = admin_client.post(add_url(MODEL), generic_form(auth_server))
    assert response.status_code == 302, response.context["adminform"].form.errors
    connection = GenericConnection.objects.get()
    assert connection.authorization_url == auth_server.generic_auth_url
    assert connection.token_url == auth_server.generic_token_url
    assert connection.userinfo_url == auth_server.generic_userinfo_url
    assert connection.revocation_url == auth_server.generic_revocation_url
    # Blank Probe URL: the test request goes to the user info endpoint.
    assert connection.probe_url == "" and connection.provider_info.probe_url(connection) == connection.userinfo_url
    # Shown on the page, and an endpoint typed by the operator is kept on the next save.
    page = admin_client.get(change_url(MODEL, connection.pk)).content.decode()
    assert f'value="{auth_server.generic_token_url}"' in page
    probe = auth_server.url("/v2/projects")
    data = generic_form(
        auth_server,
        authorization_url=auth_server.generic_auth_url,
        token_url=auth_server.generic_token_url,
        userinfo_url=auth_server.generic_userinfo_url,
        revocation_url="",
        probe_url=probe,
    )
    assert admin_client.post(change_url(MODEL, connection.pk), data).status_code == 302
    connection.refresh_from_db()
    assert connection.probe_url == probe
    assert connection.revocation_url == auth_server.generic_revocation_url  # blank: discovered again


def test_the_rfc_8414_metadata_address_is_accepted_as_the_issuer(admin_client, auth_server):
    metadata = auth_server.url("/.well-known/oauth-authorization-server")
    response = admin_client.post(add_url(MODEL), generic_form(auth_server, issuer_url=metadata))
    assert response.status_code == 302
    assert GenericConnection.objects.get().token_url == auth_server.generic_token_url


def test_an_issuer_without_metadata_is_a_sentence_on_the_issuer_field(admin_client, auth_server):
    response = admin_client.post(add_url(MODEL), generic_form(auth_server, issuer_url=auth_server.url("/nowhere")))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "published no authorization server metadata (HTTP 404" in errors["issuer_url"][0]
    assert "token_url" in errors  # and the endpoint it could not fill says what it needs
    assert not Connection.objects.exists()


def test_a_host_outside_extra_allowed_hosts_is_refused_without_asking_it(admin_client, auth_server):
    auth_server.reset_stats()
    response = admin_client.post(add_url(MODEL), generic_form(auth_server, issuer_url="https://login.partner.example"))
    errors = response.context["adminform"].form.errors
    assert "EXTRA_ALLOWED_HOSTS" in errors["issuer_url"][0]
    assert not Connection.objects.exists()


def test_authorization_code_with_pkce_and_client_secret_basic(admin_client, auth_server):
    response = admin_client.post(add_url(MODEL), {**generic_form(auth_server), "_generate": "1"})
    assert response.status_code == 302
    authorize_url = response["Location"]
    assert authorize_url.startswith(auth_server.generic_auth_url)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["prompt"] == ["consent"]
    auth_server.reset_stats()
    callback = urlsplit(auth_server.authorize(authorize_url))
    response = admin_client.get(f"{callback.path}?{callback.query}")
    connection = GenericConnection.objects.get()
    assert any(str(m).startswith("Authorized:") for m in get_messages(response.wsgi_request))
    assert connection.status == Status.AUTHORIZED and connection.refresh_token
    assert auth_server.stats()["client_authentication"] == {"generic client_secret_basic": 1}
    result = run_test(admin_client, connection.pk)
    assert result["passed"], result
    assert f"{auth_server.host} answered the test request" in result["message"]


def test_client_credentials_with_client_secret_post_tested_before_saving(admin_client, auth_server):
    data = generic_form(
        auth_server,
        grant="client_credentials",
        client_authentication="client_secret_post",
        client_id=auth_server.hypatos_client_id,
        client_secret=auth_server.hypatos_client_secret,
        scope="projects.read",
        probe_url=auth_server.url("/v2/projects"),
    )
    auth_server.reset_stats()
    result = run_test(admin_client, data=data)  # discovery, a token, the probe: nothing saved
    assert result["passed"], result
    assert not Connection.objects.exists()
    assert auth_server.stats()["client_authentication"] == {"generic client_secret_post": 1}
    assert admin_client.post(add_url(MODEL), data).status_code == 302
    connection = GenericConnection.objects.get()
    page = admin_client.get(change_url(MODEL, connection.pk)).content.decode()
    assert "_generate" not in page  # client credentials: nothing to generate
    assert "ready (token on demand)" in page


def test_password_grant_with_client_secret_basic(admin_client, auth_server):
    data = generic_form(
        auth_server,
        grant="password",
        client_id=auth_server.invenias_client_id,
        client_secret=auth_server.invenias_client_secret,
        username=auth_server.username,
        password=auth_server.password,
        scope="openid api",
        probe_url=auth_server.invenias_api_url + "countries",
    )
    auth_server.reset_stats()
    response = admin_client.post(add_url(MODEL), {**data, "_generate": "1"})
    assert response.status_code == 302
    connection = GenericConnection.objects.get()
    assert connection.status == Status.AUTHORIZED
    assert auth_server.stats()["client_authentication"] == {"generic client_secret_basic": 1}
    assert run_test(admin_client, connection.pk)["passed"]


def test_the_password_grant_needs_a_username(admin_client, auth_server):
    response = admin_client.post(add_url(MODEL), generic_form(auth_server, grant="password"))
    assert "username" in response.context["adminform"].form.errors


def test_an_answer_naming_another_issuer_is_refused(admin_client, auth_server):
    # RFC 9207: the test server names itself (its root) in its answers; this connection's issuer
    # is another one on the same host (its endpoints typed, so nothing is discovered from it).
    data = generic_form(
        auth_server,
        issuer_url=auth_server.url("/tenants/other"),
        authorization_url=auth_server.generic_auth_url,
        token_url=auth_server.generic_token_url,
        userinfo_url=auth_server.generic_userinfo_url,
        revocation_url=auth_server.generic_revocation_url,
    )
    response = admin_client.post(add_url(MODEL), {**data, "_generate": "1"})
    assert response.status_code == 302
    callback = urlsplit(auth_server.authorize(response["Location"]))
    assert "iss=" in callback.query
    auth_server.reset_stats()
    response = admin_client.get(f"{callback.path}?{callback.query}")
    assert any("another authorization server (iss)" in str(m) for m in get_messages(response.wsgi_request))
    assert auth_server.stats()["total"] == 0  # the code was never exchanged
    assert GenericConnection.objects.get().status == Status.NOT_AUTHORIZED


def authorized_generic(admin_client, auth_server):
    response = admin_client.post(add_url(MODEL), {**generic_form(auth_server), "_generate": "1"})
    callback = urlsplit(auth_server.authorize(response["Location"]))
    admin_client.get(f"{callback.path}?{callback.query}")
    return GenericConnection.objects.get()


def test_a_401_of_the_probe_renews_the_token_before_blaming_the_scope_or_probe_url(admin_client, auth_server):
    connection = authorized_generic(admin_client, auth_server)
    # The provider dropped the access token: Test renews it once with the refresh token and passes.
    auth_server.expire_access_tokens()
    auth_server.reset_stats()
    result = run_test(admin_client, connection.pk)
    assert result["passed"], result
    assert auth_server.stats()["by_grant_type"] == {"refresh_token": 1}
    # The grant is dead as well: not "check the Scope and the Probe URL", but Regenerate.
    auth_server.expire_access_tokens()
    auth_server.revoke_refresh_tokens()
    result = run_test(admin_client, connection.pk)
    assert not result["passed"] and result["step"] == "token"
    assert "invalid_grant" in result["message"] and "Regenerate" in result["message"]
    assert "Probe URL" not in result["message"]
    assert GenericConnection.objects.get(pk=connection.pk).status == Status.NEEDS_REAUTHORIZATION


def test_a_401_to_a_renewed_token_names_the_scope_and_the_probe_url(admin_client, auth_server, fault_server):
    connection = authorized_generic(admin_client, auth_server)
    # A probe URL that refuses every token (the fault server's answer to a token request it
    # does not know is 401 invalid_client): a freshly renewed token is refused too.
    GenericConnection.objects.filter(pk=connection.pk).update(probe_url=fault_server.url("/invalid-client"))
    result = run_test(admin_client, connection.pk)
    assert not result["passed"] and result["step"] == "test request" and result["status"] == 401
    assert "freshly renewed token" in result["message"] and "the token is not the cause" in result["message"]
    assert "check the Scope and the Probe URL" in result["message"]


def test_a_401_to_a_token_just_issued_is_not_the_tokens_fault(admin_client, auth_server, fault_server):
    # Client credentials: the test's token is new, so a 401 of the test request points at the
    # scope or the URL (here an API answering 401 to every token), never at "Regenerate".
    connection = make_hypatos(auth_server, endpoint_url=fault_server.url("/v2"))
    fault_server.script("/v2/projects", 401, {"Content-Type": "application/json"}, b'{"error": "invalid_token"}')
    try:
        response = admin_client.post(
            f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/", HTTP_ACCEPT="application/json"
        )
    finally:
        fault_server.scripted.pop("/v2/projects")
    result = response.json()
    assert not result["passed"] and result["step"] == "test request" and result["status"] == 401
    assert "a token it had just issued" in result["message"] and "Endpoint URL" in result["message"]
    assert "Regenerate" not in result["message"]
