"""Secrets are write-only: encrypted at rest, never rendered, kept when left blank on edit."""

import re

import pytest
from django.db import connection as db

from connectors.models import Connection, InveniasConnection
from tests.forms_data import INVENIAS, add_url, change_url

pytestmark = pytest.mark.django_db

FERNET_TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}")
SECRETS = (INVENIAS["client_secret"], INVENIAS["password"])


def raw_row(table, pk):
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {table} WHERE {'id' if table == 'connectors_connection' else 'connection_ptr_id'} = %s",
            [pk],
        )
        return " ".join(str(value) for value in cursor.fetchone())


def test_database_columns_hold_no_plaintext(admin_client):
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    connection = InveniasConnection.objects.get()
    connection.access_token = "access-token-value"
    connection.refresh_token = "refresh-token-value"
    connection.save()
    stored = raw_row("connectors_connection", connection.pk) + raw_row("connectors_inveniasconnection", connection.pk)
    for secret in (*SECRETS, "access-token-value", "refresh-token-value"):
        assert secret not in stored
    assert connection.client_secret == INVENIAS["client_secret"]  # and yet readable by the app


def test_change_page_renders_neither_plaintext_nor_ciphertext(admin_client):
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    connection = InveniasConnection.objects.get()
    connection.access_token = "access-token-value"
    connection.save()
    with db.cursor() as cursor:
        cursor.execute("SELECT client_secret, access_token FROM connectors_connection")
        ciphertexts = list(cursor.fetchone())
        cursor.execute("SELECT password FROM connectors_inveniasconnection")
        ciphertexts += list(cursor.fetchone())
    pages = [
        admin_client.get(change_url("inveniasconnection", connection.pk)).content.decode(),
        admin_client.get("/admin/connectors/inveniasconnection/").content.decode(),
        admin_client.get("/admin/connectors/connection/").content.decode(),
        admin_client.get(f"/admin/connectors/inveniasconnection/{connection.pk}/history/").content.decode(),
    ]
    for page in pages:
        for value in (*SECRETS, "access-token-value", *ciphertexts):
            assert value not in page
        assert not FERNET_TOKEN.search(page)  # no ciphertext at all, not even another one
    assert "Set. Leave blank to keep the stored value." in pages[0]


def test_blank_secret_on_edit_keeps_the_stored_one(admin_client):
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    connection = InveniasConnection.objects.get()
    data = {**INVENIAS, "client_secret": "", "password": "", "name": "Renamed"}
    assert admin_client.post(change_url("inveniasconnection", connection.pk), data).status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Renamed"
    assert connection.client_secret == INVENIAS["client_secret"]
    assert connection.password == INVENIAS["password"]


def test_new_secret_replaces_and_clear_removes(admin_client):
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    connection = InveniasConnection.objects.get()
    url = change_url("inveniasconnection", connection.pk)
    admin_client.post(url, {**INVENIAS, "client_secret": "new-secret", "password": ""})
    connection.refresh_from_db()
    assert connection.client_secret == "new-secret" and connection.password == INVENIAS["password"]
    admin_client.post(url, {**INVENIAS, "client_secret": "", "password": "", "clear_password": "on"})
    connection.refresh_from_db()
    assert connection.password == "" and connection.client_secret == "new-secret"
    page = admin_client.get(url).content.decode()
    assert "Not set." in page


def test_stored_secret_is_not_sent_to_a_new_host_until_entered_again(admin_client):
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    connection = InveniasConnection.objects.get()
    url = change_url("inveniasconnection", connection.pk)
    moved = {**INVENIAS, "client_secret": "", "password": "", "subdomain": "other"}
    response = admin_client.post(url, moved)
    errors = response.context["adminform"].form.errors
    assert "client_secret" in errors and "password" in errors
    assert InveniasConnection.objects.get().subdomain == "company"
    moved.update(client_secret="again", password="again-pw")
    assert admin_client.post(url, moved).status_code == 302
    connection.refresh_from_db()
    assert connection.token_url == "https://other.invenias.com/identity/connect/token"


def test_events_name_changed_fields_but_hold_no_secret(admin_client):
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    connection = Connection.objects.get()
    admin_client.post(
        change_url("inveniasconnection", connection.pk),
        {**INVENIAS, "client_secret": "rotated-secret-value", "password": "", "name": "New"},
    )
    events = list(connection.events.values_list("action", "detail"))
    assert ("created", "") in events
    changed = [detail for action, detail in events if action == "changed"][0]
    assert "Client Secret" in changed and "Name" in changed
    assert "rotated-secret-value" not in changed


def test_error_reports_would_not_show_typed_secrets(admin_client):
    response = admin_client.post(add_url("inveniasconnection"), INVENIAS)
    assert response.wsgi_request.sensitive_post_parameters == "__ALL__"
