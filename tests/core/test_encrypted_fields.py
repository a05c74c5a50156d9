"""The secret fields: a pasted ciphertext is never decrypted, a key that cannot read a stored value
raises instead of handing out the ciphertext, and dumps hold ciphertext only."""

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection as db

from connectors.core.fields import UnreadableSecret
from connectors.models import Connection, InveniasConnection
from tests.forms_data import INVENIAS, add_url, change_url

pytestmark = pytest.mark.django_db


def stored_ciphertext(pk, column="client_secret", table="connectors_connection", key="id"):
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {key} = %s", [pk])
        return cursor.fetchone()[0]


def victim():
    return InveniasConnection.objects.create(
        name="Victim", subdomain="victim", client_secret="victim-client-secret", password="victim-password"
    )


def test_a_pasted_ciphertext_is_refused_on_the_form_naming_the_field(admin_client):
    stolen = stored_ciphertext(victim().pk)
    response = admin_client.post(
        add_url("inveniasconnection"), {**INVENIAS, "name": "Thief", "client_secret": stolen, "password": stolen}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Client Secret: enter the secret itself" in errors["client_secret"][0]
    assert "Password: enter the secret itself" in errors["password"][0]
    assert not InveniasConnection.objects.filter(name="Thief").exists()
    # Pasted with spaces around it (Fernet's base64 decoder would skip them): refused too.
    response = admin_client.post(
        add_url("inveniasconnection"), {**INVENIAS, "name": "Thief", "client_secret": f" {stolen}\n"}
    )
    assert "client_secret" in response.context["adminform"].form.errors


def test_a_pasted_ciphertext_is_refused_on_edit_too(admin_client):
    stolen = stored_ciphertext(victim().pk)
    admin_client.post(add_url("inveniasconnection"), INVENIAS)
    mine = InveniasConnection.objects.get(name=INVENIAS["name"])
    response = admin_client.post(
        change_url("inveniasconnection", mine.pk), {**INVENIAS, "client_secret": stolen, "password": ""}
    )
    assert "client_secret" in response.context["adminform"].form.errors
    mine.refresh_from_db()
    assert mine.client_secret == INVENIAS["client_secret"]


def test_the_model_refuses_what_the_form_refuses():
    stolen = stored_ciphertext(victim().pk)
    thief = InveniasConnection(
        name="Thief", subdomain="thief", client_secret=stolen, token_url="https://t.invenias.com/"
    )
    with pytest.raises(ValidationError) as raised:
        thief.full_clean()
    assert "client_secret" in raised.value.message_dict


def test_a_ciphertext_saved_anyway_is_kept_as_literal_text_never_decrypted():
    original = victim()
    stolen = stored_ciphertext(original.pk)
    thief = InveniasConnection.objects.create(name="Thief", subdomain="thief", client_secret=stolen)
    thief = InveniasConnection.objects.get(pk=thief.pk)
    assert thief.client_secret == stolen
    assert thief.client_secret != "victim-client-secret"


def test_a_stored_value_the_keys_cannot_read_raises_instead_of_returning_ciphertext(settings):
    original = victim()
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(UnreadableSecret, match="cannot decrypt the stored client_secret") as raised:
        Connection.objects.get(pk=original.pk)
    assert "gAAAA" not in str(raised.value)
    with pytest.raises(UnreadableSecret):
        Connection.objects.values_list("access_token", flat=True).get(pk=original.pk)


def test_dumpdata_holds_ciphertext_only():
    original = victim()
    original.access_token, original.refresh_token = "victim-access-token", "victim-refresh-token"
    original.save()
    out = StringIO()
    call_command("dumpdata", "connectors", stdout=out)
    dump = out.getvalue()
    for secret in ("victim-client-secret", "victim-password", "victim-access-token", "victim-refresh-token"):
        assert secret not in dump
    rows = {(row["model"], row["pk"]): row["fields"] for row in json.loads(dump)}
    base = rows[("connectors.connection", original.pk)]
    assert Fernet(settings_key()).decrypt(base["client_secret"].encode()) == b"victim-client-secret"


def settings_key():
    from django.conf import settings

    return settings.FIELD_ENCRYPTION_KEY[0]


def test_a_wrong_key_at_run_time_answers_what_to_fix_and_sends_nothing(admin_client, settings, fault_server):
    original = InveniasConnection.objects.create(
        name="Victim", subdomain="victim", client_secret="victim-secret", token_url=fault_server.url("/token-ok")
    )
    fault_server.reset()
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    for url in (
        f"/admin/connectors/inveniasconnection/{original.pk}/change/",
        "/admin/connectors/connection/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 503
        assert "FIELD_ENCRYPTION_KEY cannot decrypt the stored" in response.content.decode()
        assert "gAAAA" not in response.content.decode()
    response = admin_client.post(f"/admin/connectors/inveniasconnection/{original.pk}/test-connection/")
    assert response.status_code == 503
    assert fault_server.request_count == 0  # no ciphertext was sent as if it were the secret
