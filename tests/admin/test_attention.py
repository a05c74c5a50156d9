"""What the operator is told and asked for around a connection's health (issue 10), through the
admin's own views: the banner's counts, row tests, the Test answer's badge, refused input, the
checks made before leaving the app, and a test of unsaved settings adopted on save."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from connectors.core import failures
from connectors.models import Connection, HypatosConnection, InveniasConnection, Status
from connectors.partners import discovery
from connectors.templatetags.connectors_health import attention_parts
from tests.connections import hypatos_form, invenias_form, make_hypatos, make_invenias, make_inverbis
from tests.forms_data import change_url

pytestmark = pytest.mark.django_db

TEST_URL = "/admin/connectors/{model}/{pk}/test-connection/"


def connection_test_url(model, pk):
    return TEST_URL.format(model=model, pk=pk)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_banner_words_use_plurals():
    assert [words for _code, words in attention_parts({"needs_reauthorization": 2, "renewal_failing": 1})] == [
        "2 connections need reauthorization",
        "1 renewal failing",
    ]
    assert [words for _code, words in attention_parts({"needs_reauthorization": 1, "expired": 3})] == [
        "1 connection needs reauthorization",
        "3 tokens expired",
    ]
    assert attention_parts({"authorized": 4, "ready": 1}) == []


def test_index_banner_only_for_those_who_may_see_connections(admin_client, auth_server, staff_factory):
    connection = make_inverbis(auth_server)
    Connection.objects.filter(pk=connection.pk).update(
        access_token="x", status=Status.NEEDS_REAUTHORIZATION, token_expires_at=timezone.now()
    )
    page = admin_client.get("/admin/").content.decode()
    assert "1 connection needs reauthorization" in page
    assert "/admin/connectors/connection/?health=needs_reauthorization" in page
    outsider = Client()
    outsider.force_login(staff_factory("outsider"))
    assert "needs reauthorization" not in outsider.get("/admin/").content.decode()


def test_a_rows_test_button_reports_on_the_list_it_came_from(admin_client, auth_server):
    connection = make_invenias(auth_server, password="wrong horse")
    overview = "/admin/connectors/connection/?health=not_authorized"
    response = admin_client.post(
        connection_test_url("inveniasconnection", connection.pk),
        {"_return": "overview"},
        HTTP_REFERER=f"http://testserver{overview}",
    )
    assert response.status_code == 302 and response["Location"].endswith(overview)
    [line] = messages_of(response)
    assert f'<a href="/admin/connectors/inveniasconnection/{connection.pk}/change/">' in line
    assert "username or password" in line
    # A referer elsewhere is not followed.
    response = admin_client.post(
        connection_test_url("inveniasconnection", connection.pk),
        {"_return": "overview"},
        HTTP_REFERER="https://evil.example/",
    )
    assert response["Location"] == "/admin/connectors/connection/"


def test_the_test_answer_carries_the_new_health(admin_client, auth_server):
    connection = make_invenias(auth_server, password="wrong horse")
    answer = admin_client.post(
        connection_test_url("inveniasconnection", connection.pk), HTTP_ACCEPT="application/json"
    ).json()
    assert answer["headline"] == "Failed at the token step"
    # A refused password is a refusal of the saved settings: red, naming the fields to fix.
    assert answer["health"] == {
        "code": "settings_refused",
        "text": "settings refused (check Username, Password)",
        "tone": "danger",
        "title": answer["health"]["title"],
    }
    assert "username or password" in answer["health"]["title"]
    assert answer["meta"].endswith("HTTP 400") and "token step" not in answer["message"]


def test_an_expired_session_gets_json_saying_so(client, auth_server):
    connection = make_hypatos(auth_server)
    response = client.post(connection_test_url("hypatosconnection", connection.pk), HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    answer = response.json()
    assert answer["session_expired"] and "log in again" in answer["message"]
    assert answer["login_url"] == "/admin/login/"
    # Without JSON, the admin's own login redirect as before.
    assert client.post(connection_test_url("hypatosconnection", connection.pk)).status_code == 302


@pytest.mark.parametrize(
    "model,make,field,words",
    [
        ("hypatosconnection", make_hypatos, "client_secret", "No client secret is stored"),
        ("inveniasconnection", make_invenias, "client_secret", "No client secret is stored"),
        ("inveniasconnection", make_invenias, "password", "No password is stored"),
    ],
)
def test_a_missing_secret_is_said_before_any_request(admin_client, auth_server, model, make, field, words):
    connection = make(auth_server, **{field: ""})
    before = auth_server.stats()["total"]
    answer = admin_client.post(connection_test_url(model, connection.pk), HTTP_ACCEPT="application/json").json()
    assert not answer["passed"] and answer["message"].startswith(words)
    assert auth_server.stats()["total"] == before  # the provider was not asked


def test_clear_and_a_new_secret_together_are_refused(admin_client, auth_server):
    connection = make_hypatos(auth_server)
    data = {**hypatos_form(auth_server), "client_secret": "new-secret", "clear_client_secret": "on"}
    response = admin_client.post(change_url("hypatosconnection", connection.pk), data)
    assert response.status_code == 200
    assert "not both" in response.context["adminform"].form.errors["client_secret"][0]
    assert HypatosConnection.objects.get().client_secret == auth_server.hypatos_client_secret


def test_a_form_with_errors_says_the_typed_secret_was_not_kept(admin_client, auth_server):
    connection = make_invenias(auth_server)
    data = {**invenias_form(auth_server), "subdomain": "not a label", "password": "typed-new-password"}
    response = admin_client.post(change_url("inveniasconnection", connection.pk), data)
    errors = response.context["adminform"].form.errors
    assert "subdomain" in errors and "was not saved" in errors["password"][0]
    assert "client_secret" in errors  # typed too (the form data holds it)
    assert "typed-new-password" not in response.content.decode()
    assert InveniasConnection.objects.get().password == auth_server.password


def test_a_test_of_unsaved_settings_counts_once_they_are_saved_unchanged(admin_client, auth_server):
    connection = make_hypatos(auth_server, scope="documents.read")
    form = {**hypatos_form(auth_server), "scope": "projects.read"}
    answer = admin_client.post(
        connection_test_url("hypatosconnection", connection.pk), form, HTTP_ACCEPT="application/json"
    ).json()
    assert answer["passed"]
    assert Connection.objects.get().last_test_at is None  # unsaved settings: not the saved ones' test
    admin_client.post(change_url("hypatosconnection", connection.pk), form)
    saved = Connection.objects.get()
    assert saved.scope == "projects.read" and saved.last_test_passed is True
    assert saved.last_test_at >= saved.settings_changed_at
    # Settings saved differently from what was tested do not adopt the test.
    admin_client.post(
        connection_test_url("hypatosconnection", connection.pk),
        {**form, "scope": "documents.read"},
        HTTP_ACCEPT="application/json",
    )
    Connection.objects.update(last_test_at=None, last_test_passed=None)
    admin_client.post(change_url("hypatosconnection", connection.pk), {**form, "scope": "projects.read documents.read"})
    assert Connection.objects.get().last_test_at is None


def test_a_failed_test_older_than_a_settings_change_is_moot(admin_client, auth_server):
    connection = make_hypatos(auth_server)
    Connection.objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now() - timedelta(minutes=5), last_test_passed=False
    )
    listing = admin_client.get("/admin/connectors/connection/?health=test_failed").content.decode()
    assert connection.name in listing
    admin_client.post(change_url("hypatosconnection", connection.pk), {**hypatos_form(auth_server), "scope": "x.read"})
    listing = admin_client.get("/admin/connectors/connection/?health=test_failed").content.decode()
    assert "0 connections" in listing


def test_discovery_names_the_field_to_fix(auth_server):
    wrong_tenant = make_inverbis(
        auth_server, name="typo", authorization_url=auth_server.inverbis_auth_url.replace("/acme/", "/acmee/")
    )
    with pytest.raises(failures.OAuthFailure) as raised:
        discovery.check(wrong_tenant)
    assert raised.value.kind == "unknown_realm" and "Tenant" in raised.value.message
    good = make_inverbis(auth_server, name="good")
    assert discovery.discovery_url(good) == auth_server.inverbis_discovery_url
    discovery.check(good)  # the realm exists: nothing raised


def test_the_host_warning_appears_only_on_another_host(admin_client, auth_server):
    connection = make_inverbis(auth_server)
    page = admin_client.get(change_url("inverbisconnection", connection.pk), HTTP_HOST="localhost").content.decode()
    assert "the callback URL is on 127.0.0.1:8000" in page
    page = admin_client.get(change_url("inverbisconnection", connection.pk), HTTP_HOST="127.0.0.1:8000").content
    assert b"pc-note--warning" not in page


def test_list_words(admin_client, auth_server):
    make_hypatos(auth_server)
    make_hypatos(auth_server, name="Second")
    page = admin_client.get("/admin/connectors/connection/").content.decode()
    assert "2 connections" in page and "2 All connections" not in page
    assert "Delete selected connections" in page and "Delete selected All connections" not in page
    assert "<h1>All connections</h1>" in page and "Select connection to change" not in page
    section = admin_client.get("/admin/connectors/hypatosconnection/").content.decode()
    assert "<h1>Hypatos.ai — Partner connection</h1>" in section


def test_generate_without_a_stored_password_asks_for_it_before_any_request(admin_client, auth_server):
    before = auth_server.stats()["total"]
    data = {**invenias_form(auth_server), "password": "", "_generate": "1"}
    response = admin_client.post("/admin/connectors/inveniasconnection/add/", data)
    assert response.status_code == 302
    assert messages_of(response)[-1].startswith(
        "No password is stored: type the Password on the OAuth 2.0 tab and click Generate"
    )
    assert auth_server.stats()["total"] == before
    assert not InveniasConnection.objects.get().access_token


def test_the_lists_and_the_index_cost_no_query_per_row(admin_client, auth_server):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def queries(url):
        with CaptureQueriesContext(db) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    make_hypatos(auth_server, name="h0")
    make_invenias(auth_server, name="i0")
    make_inverbis(auth_server, name="v0")
    pages = ("/admin/", "/admin/connectors/connection/", "/admin/connectors/connection/?health=ready")
    few = [queries(url) for url in pages]
    for n in range(1, 6):
        make_hypatos(auth_server, name=f"h{n}")
        make_invenias(auth_server, name=f"i{n}")
        make_inverbis(auth_server, name=f"v{n}")
    assert [queries(url) for url in pages] == few


def test_the_delete_confirmation_speaks_of_connections(admin_client, auth_server):
    ids = [make_hypatos(auth_server, name=name).pk for name in ("one", "two")]
    page = admin_client.post(
        "/admin/connectors/connection/", {"action": "delete_selected", "_selected_action": ids}
    ).content.decode()
    assert "delete the selected connections?" in page and "selected All connections" not in page


def test_the_api_keys_list_keeps_its_own_words(admin_client):
    page = admin_client.get("/admin/connectors/apikey/").content.decode()
    assert "0 connections" not in page  # the connections' count line is theirs alone
