"""The operations commands (test_connections, refresh_tokens, rotate_encryption_key) against the
real authorization server, on SQLite and, with `make test`, on PostgreSQL."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db_connection
from django.utils import timezone

from connectors.models import Connection, InveniasConnection, Status
from connectors.store.checks import check_encryption_key
from tests.connections import make_hypatos, make_invenias
from tests.engine.test_concurrency import authorize_inverbis
from tests.processes import database_url
from tests.settings import TEST_FIELD_ENCRYPTION_KEY

# transaction=True: the commands work on threads with their own database connections.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]
ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    """(stdout, exit status) of a command called in-process."""
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return out.getvalue(), error.returncode
    return out.getvalue(), 0


def secrets_of(*connections):
    values = []
    for connection in connections:
        connection.refresh_from_db()
        values += [
            connection.client_secret,
            connection.access_token,
            connection.refresh_token,
            getattr(connection, "password", ""),
        ]
    return [value for value in values if value]


# --- test_connections ----------------------------------------------------------------------------


@pytest.fixture
def three(auth_server):
    return (
        make_hypatos(auth_server, name="Hypatos good"),
        make_hypatos(auth_server, name="Hypatos bad", client_secret="wrong-secret-value"),
        make_invenias(auth_server, name="Invenias good"),
    )


def test_test_connections_all(three):
    out, status = run("test_connections")
    good, bad, invenias = three
    lines = out.strip().splitlines()
    assert status == 1  # one failed
    assert len(lines) == 4 and lines[-1].startswith("3 tested in") and lines[-1].endswith("2 passed, 1 failed.")
    assert any(line.startswith(f"FAIL #{bad.pk} ") and "client ID or client secret" in line for line in lines)
    assert any(line.startswith(f"PASS #{good.pk} ") for line in lines)
    assert any(line.startswith(f"PASS #{invenias.pk} ") for line in lines)
    for secret in secrets_of(*three) + ["wrong-secret-value"]:
        assert secret not in out
    bad.refresh_from_db()
    assert bad.last_test_passed is False  # recorded, as the admin's Test Connection does


def test_test_connections_selected_by_id_provider_or_name(three):
    good, bad, invenias = three
    out, status = run("test_connections", "invenias")
    assert status == 0 and f"#{invenias.pk} " in out and "1 tested" in out
    out, status = run("test_connections", str(good.pk), "Invenias good")
    assert status == 0 and "2 tested" in out and f"#{bad.pk} " not in out
    out, status = run("test_connections", "no such connection")
    assert status == 2


def test_test_connections_json(three):
    out, status = run("test_connections", "--json", "hypatos")
    document = json.loads(out)
    assert status == 1
    assert document["summary"] == {**document["summary"], "total": 2, "passed": 1, "failed": 1}
    by_name = {row["name"]: row for row in document["results"]}
    assert by_name["Hypatos good"]["passed"] is True and by_name["Hypatos good"]["provider"] == "hypatos"
    assert by_name["Hypatos bad"]["step"] == "token" and by_name["Hypatos bad"]["status"] == 401


def test_the_walking_commands_read_in_chunks_and_miss_nothing(three, monkeypatch):
    from connectors.store import chunks, definitions

    monkeypatch.setattr(chunks, "CHUNK_SIZE", 2)  # three connections: two chunks
    out, status = run("test_connections", "--json")
    document = json.loads(out)
    assert document["summary"]["total"] == 3 and len(document["results"]) == 3
    listed = [(row["provider"], row["name"]) for row in document["results"]]
    assert listed == sorted(listed)  # by provider and name, as before
    out, _status = run("test_connections")
    assert out.count("PASS") + out.count("FAIL") == 3 and "3 tested" in out
    exported = json.loads(run("export_connections")[0])
    whole = definitions.export_document(Connection.objects.order_by("provider", "name", "pk"))
    assert exported["connections"] == whole["connections"]
    assert [key for key in exported] == ["format", "version", "exported_at", "connections"]


def test_test_connections_exit_status_from_manage_py(three):
    # The exit status cron and monitoring see, from a real process on the same database.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "TEST_DATABASE_URL": database_url(db_connection)}
    failing = subprocess.run(
        [sys.executable, "manage.py", "test_connections", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failing.returncode == 1, failing.stderr
    assert json.loads(failing.stdout)["summary"]["failed"] == 1
    passing = subprocess.run(
        [sys.executable, "manage.py", "test_connections", "Hypatos good"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert passing.returncode == 0, passing.stderr


# --- refresh_tokens ------------------------------------------------------------------------------


def expires_in(connection, **delta):
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now() + timedelta(**delta))


def test_refresh_tokens(auth_server, fault_server, settings, mailoutbox):
    settings.ADMINS = [("Ops", "ops@example.com")]
    soon = authorize_inverbis(auth_server)
    expires_in(soon, minutes=5)
    later = authorize_inverbis(auth_server, name="Inverbis later")
    expires_in(later, minutes=30)
    dead = authorize_inverbis(auth_server, name="Inverbis dead")
    dead.refresh_token = "refresh-token-the-server-never-issued"
    dead.save()
    expires_in(dead, minutes=2)
    hypatos = make_hypatos(auth_server)
    hypatos.get_access_token()
    expires_in(hypatos, minutes=3)
    down = make_hypatos(auth_server, name="Hypatos down")
    down.get_access_token()
    expires_in(down, minutes=1)
    Connection.objects.filter(pk=down.pk).update(token_url=fault_server.url("/503"))
    before = {c.pk: c.token_expires_at for c in Connection.objects.all()}
    auth_server.reset_stats()

    out, status = run("refresh_tokens")

    assert status == 1
    assert out.strip().splitlines()[-1] == (
        "4 tokens expiring within 10 min: 2 refreshed, 1 failed, 1 newly need reauthorization "
        "(0 already waiting for reauthorization)."
    )
    assert auth_server.stats()["by_grant_type"] == {"refresh_token": 2, "client_credentials": 1}
    after = {c.pk: c for c in Connection.objects.all()}
    assert after[soon.pk].token_expires_at > timezone.now() + timedelta(minutes=50)
    assert after[hypatos.pk].token_expires_at > timezone.now() + timedelta(minutes=50)
    assert after[later.pk].token_expires_at == before[later.pk]  # outside the window: untouched
    assert after[down.pk].token_expires_at == before[down.pk] and after[down.pk].status == Status.AUTHORIZED
    assert after[dead.pk].status == Status.NEEDS_REAUTHORIZATION
    [mail] = mailoutbox
    assert mail.to == ["ops@example.com"] and "1 partner connection needs reauthorization" in mail.subject
    assert "Inverbis dead" in mail.body and f"/admin/connectors/inverbisconnection/{dead.pk}/change/" in mail.body
    assert "Regenerate" in mail.body
    for secret in secrets_of(soon, later, hypatos, down) + ["refresh-token-the-server-never-issued"]:
        assert secret not in out and secret not in mail.body

    # The next run does not retry the dead grant nor mail again.
    Connection.objects.filter(pk=down.pk).update(token_url=auth_server.hypatos_token_url)
    out, status = run("refresh_tokens")
    assert status == 0 and len(mailoutbox) == 1
    assert out.strip().splitlines()[-1] == (
        "1 token expiring within 10 min: 1 refreshed, 0 failed, 0 newly need reauthorization "
        "(1 already waiting for reauthorization)."
    )


def test_refresh_tokens_without_refresh_token_asks_for_reauthorization_once(auth_server, settings, mailoutbox):
    settings.ADMINS = [("Ops", "ops@example.com")]
    connection = authorize_inverbis(auth_server)
    Connection.objects.filter(pk=connection.pk).update(refresh_token="")
    expires_in(connection, minutes=4)
    out, status = run("refresh_tokens", "--within", "5")
    assert status == 1 and "1 newly need reauthorization" in out and len(mailoutbox) == 1
    connection.refresh_from_db()
    assert connection.status == Status.NEEDS_REAUTHORIZATION and "no refresh token" in connection.status_reason
    out, status = run("refresh_tokens", "--within", "5")
    assert status == 0 and len(mailoutbox) == 1


# --- rotate_encryption_key -----------------------------------------------------------------------

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = TEST_FIELD_ENCRYPTION_KEY  # the key the running fields encrypt with


def raw(model, pk, field):
    column = model._meta.get_field(field).column
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s", [pk])
        return cursor.fetchone()[0]


def store_raw(model, pk, field, value):
    column = model._meta.get_field(field).column
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} SET {column} = %s WHERE {model._meta.pk.column} = %s", [value, pk]
        )


def under(key, model, pk, field):
    try:
        Fernet(key).decrypt(raw(model, pk, field).encode())
    except Exception:
        return False
    return True


def test_rotate_encryption_key(auth_server, settings):
    # Rows written under the old key, as before the operator put a new key first in the list.
    invenias = make_invenias(auth_server, name="Invenias rotated")
    invenias.get_access_token()
    fresh = make_invenias(auth_server, name="Invenias already new")  # under the new key already
    old = Fernet(OLD_KEY)
    plain = {
        "client_secret": invenias.client_secret,
        "access_token": invenias.access_token,
        "password": invenias.password,
    }
    store_raw(Connection, invenias.pk, "client_secret", old.encrypt(plain["client_secret"].encode()).decode())
    store_raw(Connection, invenias.pk, "access_token", old.encrypt(plain["access_token"].encode()).decode())
    store_raw(InveniasConnection, invenias.pk, "password", old.encrypt(plain["password"].encode()).decode())
    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY, OLD_KEY]

    out, status = run("rotate_encryption_key", "--dry-run")
    # The field library encrypts empty values too: the 5 "already" are the second row's four
    # columns and the first row's (empty) refresh token.
    assert status == 0 and out.startswith("3 values would be re-encrypted with the newest key, 5 already under it")
    assert not under(NEW_KEY, Connection, invenias.pk, "client_secret")

    out, status = run("rotate_encryption_key")
    assert status == 0 and out.startswith("3 values re-encrypted with the newest key, 5 already under it, 0 unreadable")
    for model, field in [(Connection, "client_secret"), (Connection, "access_token"), (InveniasConnection, "password")]:
        assert under(NEW_KEY, model, invenias.pk, field) and not under(OLD_KEY, model, invenias.pk, field)
    reread = InveniasConnection.objects.get(pk=invenias.pk)
    assert {name: getattr(reread, name) for name in plain} == plain
    assert InveniasConnection.objects.get(pk=fresh.pk).password == fresh.password
    for secret in plain.values():
        assert secret not in out

    # Idempotent: a second run (after an interruption, or just again) changes nothing.
    before = raw(Connection, invenias.pk, "client_secret")
    out, status = run("rotate_encryption_key")
    assert status == 0 and out.startswith("0 values re-encrypted with the newest key, 8 already under it")
    assert raw(Connection, invenias.pk, "client_secret") == before
    # The old key can go: the start-up check reads everything with the new key alone.
    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY]
    assert check_encryption_key() == []


def test_rotate_encryption_key_reports_unreadable_values_and_rotates_the_rest(auth_server, settings):
    lost = make_hypatos(auth_server, name="Under a lost key")
    readable = make_hypatos(auth_server, name="Under the old key")
    store_raw(Connection, lost.pk, "client_secret", Fernet(Fernet.generate_key()).encrypt(b"lost-secret").decode())
    store_raw(Connection, readable.pk, "client_secret", Fernet(OLD_KEY).encrypt(b"old-secret").decode())
    settings.FIELD_ENCRYPTION_KEY = [NEW_KEY, OLD_KEY]
    out, status = run("rotate_encryption_key")
    assert status == 1
    assert "1 value re-encrypted" in out and "1 unreadable" in out
    assert under(NEW_KEY, Connection, readable.pk, "client_secret")
    assert Connection.objects.get(pk=readable.pk).client_secret == "old-secret"
    with pytest.raises(CommandError, match=rf"id {lost.pk} \(client_secret\)") as raised:
        call_command("rotate_encryption_key", stdout=StringIO())
    assert "lost-secret" not in str(raised.value)
