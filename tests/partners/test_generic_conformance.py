"""The generic provider against a standards-conforming server in each issuer shape (issue 18):
the issuer at the server's root found by OpenID Connect discovery, metadata only at RFC 8414's
path-inserted address, and an issuer ending in "/" (tests/authserver/shapes.py). Each is saved
through the admin, authorized by logging in at the real server, tested, regenerated and
deleted, as an operator would."""

from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
import requests
from django.contrib.messages import get_messages

from connectors.models import GenericConnection, Status
from connectors.partners import accounts
from tests.connections import generic_form
from tests.forms_data import add_url, change_url

pytestmark = pytest.mark.django_db

MODEL = "genericconnection"


def save(client, data, **extra):
    response = client.post(add_url(MODEL), {**data, **extra})
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def come_back(client, callback_url):
    parts = urlsplit(callback_url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302
    # The newest message: the flow's outcome (an earlier save's message may still be queued).
    return response, str(list(get_messages(response.wsgi_request))[-1])


def generate(client, server, connection, data):
    """Generate (or Regenerate) on the change page, log in and consent, come back."""
    form = {**data, "client_secret": "", "issuer_url": connection.issuer_url, "_generate": "1"}
    response = client.post(change_url(MODEL, connection.pk), form)
    assert response.status_code == 302, response.content[:500]
    callback = server.authorize(response["Location"])
    return callback, *come_back(client, callback)


def run_test(client, connection):
    response = client.post(
        f"/admin/connectors/{MODEL}/{connection.pk}/test-connection/", HTTP_ACCEPT="application/json"
    )
    return response.json()


def refresh_answer(server, connection, refresh_token):
    """What the token endpoint says to this refresh token now."""
    response = requests.post(
        connection.token_url,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        # Form-encoded before HTTP Basic, as RFC 6749 §2.3.1 says and the server decodes.
        auth=(quote_plus(server.generic_client_id), quote_plus(server.generic_client_secret)),
        timeout=10,
    )
    return response.status_code, response.json().get("error")


# -- the three issuer shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("typed_slash", ["/", ""], ids=["typed-with-slash", "typed-without"])
def test_an_issuer_ending_in_a_slash_is_stored_exactly_and_its_answers_are_accepted(
    admin_client, auth_server, typed_slash
):
    issuer = auth_server.shaped("slash.example", "/")
    data = generic_form(auth_server, issuer_url=issuer.rstrip("/") + typed_slash)
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    # Exactly as the metadata names it, whichever way it was typed (RFC 9207 §2.4).
    assert connection.issuer_url == issuer
    assert connection.token_url == auth_server.shaped("slash.example", "/_/token")
    callback, _response, said = generate(admin_client, auth_server, connection, data)
    assert parse_qs(urlsplit(callback).query)["iss"] == [issuer]
    assert said.startswith("Authorized:"), said
    connection.refresh_from_db()
    assert connection.status == Status.AUTHORIZED
    assert run_test(admin_client, connection)["passed"]


def test_a_connection_saved_with_the_slash_missing_gets_it_on_its_next_save(admin_client, auth_server):
    # Saved before the issuer was taken from the metadata, every endpoint typed.
    issuer = auth_server.shaped("slash.example", "/")
    endpoints = {
        name: issuer + "_/" + name.removesuffix("_url").replace("revocation", "revoke")
        for name in ("token_url", "userinfo_url", "revocation_url")
    }
    data = generic_form(
        auth_server, issuer_url=issuer.rstrip("/"), authorization_url=issuer + "_/authorize", **endpoints
    )
    connection = GenericConnection.objects.create(
        **{k: v for k, v in data.items() if k not in ("username", "password")}
    )
    response = admin_client.post(change_url(MODEL, connection.pk), {**data, "client_secret": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    connection.refresh_from_db()
    assert connection.issuer_url == issuer
    assert generate(admin_client, auth_server, connection, data)[2].startswith("Authorized:")


def test_metadata_only_at_the_rfc_8414_path_inserted_address(admin_client, auth_server):
    issuer = auth_server.shaped("rfc8414.example", "/tenant-a")
    # Nothing at OpenID Connect Discovery's address: RFC 8414's is the one that answers.
    assert requests.get(issuer + "/.well-known/openid-configuration", timeout=10).status_code == 404
    data = generic_form(auth_server, issuer_url=issuer)
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    assert connection.issuer_url == issuer
    assert connection.authorization_url == issuer + "/_/authorize"
    callback, _response, said = generate(admin_client, auth_server, connection, data)
    assert parse_qs(urlsplit(callback).query)["iss"] == [issuer]
    assert said.startswith("Authorized:"), said
    assert run_test(admin_client, connection)["passed"]


def test_the_root_issuer_found_by_openid_connect_discovery(admin_client, auth_server):
    data = generic_form(auth_server)
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    assert connection.issuer_url == auth_server.generic_issuer
    _callback, _response, said = generate(admin_client, auth_server, connection, data)
    assert said.startswith("Authorized:"), said
    assert run_test(admin_client, connection)["passed"]


def test_a_discovery_document_naming_another_issuer_is_refused_on_the_issuer_field(admin_client, auth_server):
    # The document at .../other-tenant says it is the host's root issuer.
    typed = auth_server.shaped("mismatch.example", "/other-tenant")
    response = admin_client.post(add_url(MODEL), generic_form(auth_server, issuer_url=typed))
    assert response.status_code == 200
    error = response.context["adminform"].form.errors["issuer_url"][0]
    assert f"names another issuer ({auth_server.shaped('mismatch.example')})" in error
    assert typed in error
    assert not GenericConnection.objects.exists()


# -- Regenerate and revocation -----------------------------------------------------------------


def test_regenerate_does_not_revoke_by_default_so_the_new_authorization_lives(
    admin_client, auth_server, django_capture_on_commit_callbacks
):
    # The root server ends the whole grant when one refresh token is revoked (as certified
    # servers and Keycloak do): revoking the replaced token would kill the new one.
    data = generic_form(auth_server)
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    assert not connection.revokes_single_tokens
    generate(admin_client, auth_server, connection, data)
    connection.refresh_from_db()
    auth_server.reset_stats()
    with django_capture_on_commit_callbacks(execute=True):
        said = generate(admin_client, auth_server, connection, data)[2]
    assert said.startswith("Authorized:"), said
    assert auth_server.stats()["revocations"] == {}
    skipped = connection.events.get(action="revocation skipped")
    assert "does not say that its server revokes single tokens" in skipped.detail
    result = run_test(admin_client, connection)
    assert result["passed"], result


def test_the_choice_on_a_grant_ending_server_shows_why_it_is_off_by_default(
    admin_client, auth_server, django_capture_on_commit_callbacks
):
    data = generic_form(auth_server, revokes_single_tokens="on")
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    generate(admin_client, auth_server, connection, {**data})
    with django_capture_on_commit_callbacks(execute=True):
        assert generate(admin_client, auth_server, connection, data)[2].startswith("Authorized:")
    # The page said "Authorized", but the server ended the whole grant with the old token: the
    # test request's 401 makes Test renew once, and the dead refresh token says Regenerate.
    result = run_test(admin_client, connection)
    assert not result["passed"] and result["status"] == 400 and "invalid_grant" in result["message"]
    assert GenericConnection.objects.get(pk=connection.pk).status == "needs_reauthorization"


def test_regenerate_revokes_the_replaced_token_where_the_server_revokes_single_tokens(
    admin_client, auth_server, django_capture_on_commit_callbacks
):
    data = generic_form(auth_server, issuer_url=auth_server.shaped("single.example"), revokes_single_tokens="on")
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    assert connection.revokes_single_tokens
    generate(admin_client, auth_server, connection, data)
    connection.refresh_from_db()
    replaced = connection.refresh_token
    auth_server.reset_stats()
    with django_capture_on_commit_callbacks(execute=True):
        assert generate(admin_client, auth_server, connection, data)[2].startswith("Authorized:")
    assert auth_server.stats()["revocations"] == {"hosts/single.example": 1}
    assert refresh_answer(auth_server, connection, replaced) == (400, "invalid_grant")
    assert run_test(admin_client, connection)["passed"]


def test_deleting_still_revokes_the_refresh_token(admin_client, auth_server, django_capture_on_commit_callbacks):
    data = generic_form(auth_server)
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    generate(admin_client, auth_server, connection, data)
    connection.refresh_from_db()
    refresh_token = connection.refresh_token
    auth_server.reset_stats()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/connectors/{MODEL}/{connection.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert auth_server.stats()["revocations"] == {"generic": 1}
    assert refresh_answer(auth_server, connection, refresh_token) == (400, "invalid_grant")


# -- "Connected as" ------------------------------------------------------------------------------


def test_the_suggested_scope_names_the_account(admin_client, auth_server):
    page = admin_client.get(add_url(MODEL)).content.decode()
    assert 'value="openid profile email"' in page
    data = generic_form(auth_server, scope="openid profile email")
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    generate(admin_client, auth_server, connection, data)
    page = admin_client.get(change_url(MODEL, connection.pk)).content.decode()
    assert f"{auth_server.username}" in page
    connection.refresh_from_db()
    assert connection.token_account == auth_server.username


def test_with_scope_openid_alone_the_account_is_its_sub(admin_client, auth_server):
    # A conforming userinfo answers only `sub` for scope openid.
    data = generic_form(auth_server, scope="openid")
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    generate(admin_client, auth_server, connection, data)
    connection.refresh_from_db()
    assert connection.token_account.startswith("user-")
    assert connection.token_account in admin_client.get(change_url(MODEL, connection.pk)).content.decode()


def test_without_a_userinfo_answer_the_id_token_names_the_account(auth_server, fault_server):
    connection = GenericConnection(userinfo_url=fault_server.url("/500"), token_url=auth_server.generic_token_url)
    # header.payload.signature, the payload {"sub": "248289761001", "email": "jane@example.com"}
    id_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiAiMjQ4Mjg5NzYxMDAxIiwgImVtYWlsIjogImphbmVAZXhhbXBsZS5jb20ifQ.c2ln"
    assert accounts.account_of_token(connection, "access", {"id_token": id_token}) == "jane@example.com"
    assert accounts.account_of_token(connection, "access", {"id_token": "not.a-token"}) == ""


# -- client credentials, refused answers, the password grant -----------------------------------


def test_client_credentials_without_a_probe_url_passes_at_the_token_and_says_how_to_test_more(
    admin_client, auth_server
):
    data = generic_form(
        auth_server,
        grant="client_credentials",
        client_id=auth_server.hypatos_client_id,
        client_secret=auth_server.hypatos_client_secret,
        scope="projects.read",
    )
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    result = run_test(admin_client, connection)
    assert result["passed"], result
    assert f"{auth_server.host} issued a token. No test request was made" in result["message"]
    assert "Enter a Probe URL" in result["message"]


def test_a_refused_callback_lands_on_the_connections_own_page(admin_client, auth_server):
    data = generic_form(auth_server)
    save(admin_client, data)
    connection = GenericConnection.objects.get()
    response = admin_client.post(change_url(MODEL, connection.pk), {**data, "client_secret": "", "_generate": "1"})
    callback = urlsplit(auth_server.authorize(response["Location"]))
    forged = f"{callback.path}?{callback.query.replace('iss=', 'iss=https%3A%2F%2Fevil.example&was=')}"
    response = admin_client.get(forged)
    assert response["Location"] == change_url(MODEL, connection.pk) + "#oauth"
    assert any("another authorization server (iss)" in str(m) for m in get_messages(response.wsgi_request))
