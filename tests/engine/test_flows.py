"""Every grant end to end against the real local authorization server (django-oauth-toolkit in
its own process): Generate, the callback, the token lifecycle and Test Connection."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from connectors.models import Connection, Status
from tests.connections import hypatos_form, invenias_form, inverbis_form, make_hypatos, make_invenias, make_inverbis
from tests.forms_data import add_url, change_url

pytestmark = pytest.mark.django_db


def connection_test_url(model, pk=None):
    return f"/admin/connectors/{model}/{pk}/test-connection/" if pk else f"/admin/connectors/{model}/test-connection/"


def run_test(client, model, pk=None, data=None):
    response = client.post(connection_test_url(model, pk), data or {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def generate(client, connection, server, allow=True):
    """Click Generate on the saved form, log in at the provider, and come back."""
    response = client.post(change_url("inverbisconnection", connection.pk), {**inverbis_form(server), "_generate": "1"})
    assert response.status_code == 302
    authorize_url = response["Location"]
    assert authorize_url.startswith(server.inverbis_auth_url)
    callback = server.authorize(authorize_url, allow=allow)
    parts = urlsplit(callback)
    assert parts.path == f"/oauth/callback/{connection.pk}/"
    return client.get(f"{parts.path}?{parts.query}"), authorize_url


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_authorization_code_with_pkce_end_to_end(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    response, authorize_url = generate(admin_client, connection, auth_server)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [f"http://127.0.0.1:8000/oauth/callback/{connection.pk}/"]
    assert query["state"][0].startswith(f"{connection.pk}.")
    assert response["Location"] == change_url("inverbisconnection", connection.pk) + "#oauth"
    assert any(m.startswith("Authorized: the token expires in") for m in messages_of(response))
    connection.refresh_from_db()
    assert connection.status == Status.AUTHORIZED
    assert connection.access_token and connection.refresh_token
    assert connection.token_expires_at > timezone.now() + timedelta(minutes=50)
    actions = list(connection.events.values_list("action", flat=True))
    assert "authorize started" in actions and "authorized" in actions

    result = run_test(admin_client, "inverbisconnection", connection.pk)
    assert result["passed"], result
    assert result["sentence"].startswith("Passed (")
    connection.refresh_from_db()
    assert connection.last_test_passed is True and connection.last_test_at is not None

    page = admin_client.get(change_url("inverbisconnection", connection.pk)).content.decode()
    assert "Regenerate" in page and "authorized (expires in" in page
    assert connection.access_token not in page and connection.refresh_token not in page


def test_refresh_rotates_the_refresh_token_and_keeps_working(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    generate(admin_client, connection, auth_server)
    connection.refresh_from_db()
    old_access, old_refresh = connection.access_token, connection.refresh_token
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now() + timedelta(seconds=30))
    connection.refresh_from_db()
    token = connection.get_access_token()
    assert token != old_access
    connection.refresh_from_db()
    assert connection.refresh_token and connection.refresh_token != old_refresh
    assert "refreshed" in connection.events.values_list("action", flat=True)
    # The API accepts the refreshed token.
    assert connection.session().get(auth_server.inverbis_userinfo_url).status_code == 200
    # A valid token is returned as it is, without another request.
    auth_server.reset_stats()
    assert connection.get_access_token() == token
    assert auth_server.stats()["total"] == 0


def test_invalid_grant_on_refresh_needs_reauthorization(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    generate(admin_client, connection, auth_server)
    Connection.objects.filter(pk=connection.pk).update(
        token_expires_at=timezone.now() - timedelta(seconds=1), refresh_token=""
    )
    connection = Connection.objects.get(pk=connection.pk).specific
    connection.refresh_token = "no-such-refresh-token"
    connection.save()
    with pytest.raises(Exception) as raised:
        connection.get_access_token()
    assert "Regenerate" in str(raised.value)
    connection.refresh_from_db()
    assert connection.status == Status.NEEDS_REAUTHORIZATION
    assert connection.refresh_token == ""
    assert connection.status_reason
    result = run_test(admin_client, "inverbisconnection", connection.pk)
    assert not result["passed"] and "Regenerate" in result["message"]
    listing = admin_client.get("/admin/connectors/connection/").content.decode()
    assert "needs reauthorization" in listing


def test_password_grant_generate_and_test(admin_client, auth_server):
    response = admin_client.post(add_url("inveniasconnection"), {**invenias_form(auth_server), "_generate": "1"})
    assert response.status_code == 302
    connection = Connection.objects.get().specific
    assert response["Location"] == change_url("inveniasconnection", connection.pk) + "#oauth"
    assert connection.status == Status.AUTHORIZED and connection.access_token
    assert connection.refresh_token == ""  # Invenias issues none
    result = run_test(admin_client, "inveniasconnection", connection.pk)
    assert result["passed"], result
    # Expiring: a new token is requested with the stored credentials.
    old = connection.access_token
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now())
    connection.refresh_from_db()
    assert connection.get_access_token() != old


def test_client_credentials_on_demand_and_test_before_save(admin_client, auth_server):
    page = admin_client.get(add_url("hypatosconnection")).content.decode()
    assert "_generate" not in page  # no Generate button for client credentials
    result = run_test(admin_client, "hypatosconnection", data=hypatos_form(auth_server))
    assert result["passed"], result
    assert Connection.objects.count() == 0  # testing never saves
    connection = make_hypatos(auth_server)
    assert not connection.has_token
    auth_server.reset_stats()
    response = connection.session().get(f"{auth_server.hypatos_endpoint}/projects?limit=1")
    assert response.status_code == 200
    assert auth_server.stats()["total"] == 1
    connection.refresh_from_db()
    assert connection.has_token and connection.status == Status.AUTHORIZED


def test_hypatos_scope_without_projects_read_is_explained(admin_client, auth_server):
    data = hypatos_form(
        auth_server,
        client_id=auth_server.hypatos_limited_client_id,
        client_secret=auth_server.hypatos_limited_client_secret,
        scope="documents.read",
    )
    result = run_test(admin_client, "hypatosconnection", data=data)
    assert not result["passed"] and result["step"] == "test request" and result["status"] == 403
    assert "projects.read" in result["message"]


def test_test_of_unsaved_form_uses_stored_secret_unless_host_changed(admin_client, auth_server, settings):
    connection = make_hypatos(auth_server)
    data = hypatos_form(auth_server, client_secret="")
    assert run_test(admin_client, "hypatosconnection", connection.pk, data)["passed"]
    moved = hypatos_form(
        auth_server, client_secret="", token_url=auth_server.hypatos_token_url.replace("127.0.0.1", "localhost")
    )
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "EXTRA_ALLOWED_HOSTS": ["127.0.0.1:1-65535", "localhost:1-65535"],
    }
    result = run_test(admin_client, "hypatosconnection", connection.pk, moved)
    assert not result["passed"] and result["step"] == "settings"
    assert "Client Secret" in result["message"]


def test_denied_consent_keeps_the_previous_token(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    generate(admin_client, connection, auth_server)
    connection.refresh_from_db()
    token = connection.access_token
    response, _ = generate(admin_client, connection, auth_server, allow=False)
    assert any("denied" in m and "previous token is kept" in m for m in messages_of(response))
    connection.refresh_from_db()
    assert connection.access_token == token and connection.status == Status.AUTHORIZED


def test_failed_regenerate_keeps_the_working_token(admin_client, auth_server):
    connection = make_invenias(auth_server)
    url = change_url("inveniasconnection", connection.pk)
    admin_client.post(url, {**invenias_form(auth_server), "_generate": "1"})
    connection.refresh_from_db()
    token = connection.access_token
    assert token
    response = admin_client.post(url, {**invenias_form(auth_server), "password": "wrong", "_generate": "1"})
    assert any("username or password" in m and "previous token is kept" in m for m in messages_of(response))
    connection.refresh_from_db()
    assert connection.access_token == token and connection.status == Status.AUTHORIZED


def test_change_page_shows_the_event_log(admin_client, auth_server):
    connection = make_hypatos(auth_server)
    run_test(admin_client, "hypatosconnection", connection.pk)
    page = admin_client.get(change_url("hypatosconnection", connection.pk)).content.decode()
    assert "Events" in page and "tested" in page and "root" in page
    assert auth_server.hypatos_client_secret not in page


@pytest.mark.django_db(transaction=True)
def test_provider_list_bulk_test_and_badge_on_the_change_page(admin_client, auth_server):
    from tests.worker import run_ready_tasks

    connection = make_hypatos(auth_server)
    connection.get_access_token()
    page = admin_client.get(change_url("hypatosconnection", connection.pk)).content.decode()
    # Client credentials: a stored token or not, tokens come on demand.
    assert 'pc-badge pc-badge--ok" data-health="ready"' in page and "ready (token on demand)" in page
    response = admin_client.post(
        "/admin/connectors/hypatosconnection/",
        {"action": "test_selected_connections", "_selected_action": [connection.pk]},
    )
    # The request only enqueues the test and leads to its progress page; the worker tests.
    assert response.status_code == 302 and "/bulk-test/" in response["Location"]
    progress_url = response["Location"] + "progress/"
    assert admin_client.get(progress_url).json()["done"] == 0
    run_ready_tasks()
    progress = admin_client.get(progress_url).json()
    assert progress == {
        "total": 1,
        "done": 1,
        "passed": 1,
        "failed": 0,
        "not_tested": 0,
        "finished": True,
        "failures": [],
    }
    page = admin_client.get(response["Location"]).content.decode()
    assert "1 passed" in page.replace("</span>", "").replace('<span data-field="passed">', "")
