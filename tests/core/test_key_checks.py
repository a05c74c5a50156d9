"""Start-up checks refuse a missing, malformed or wrong encryption key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from connectors.models import InveniasConnection
from connectors.store.checks import check_encryption_key

ROOT = Path(__file__).resolve().parents[2]


def error_ids(settings_key, settings):
    settings.FIELD_ENCRYPTION_KEY = settings_key
    return [error.id for error in check_encryption_key()]


@pytest.mark.django_db
def test_missing_key(settings):
    assert error_ids(None, settings) == ["connectors.E001"]
    assert error_ids([], settings) == ["connectors.E001"]


@pytest.mark.django_db
def test_malformed_key_is_reported_without_echoing_it(settings):
    settings.FIELD_ENCRYPTION_KEY = ["not-a-fernet-key-but-a-secret"]
    [error] = check_encryption_key()
    assert error.id == "connectors.E001"
    assert "not a valid Fernet key" in error.msg
    assert "not-a-fernet-key-but-a-secret" not in error.msg


@pytest.mark.django_db
def test_wrong_key_names_the_rows_it_cannot_read(settings):
    original = settings.FIELD_ENCRYPTION_KEY
    connection = InveniasConnection.objects.create(
        name="Acme", subdomain="company", client_secret="s", password="p", token_url="https://company.invenias.com/t"
    )
    assert check_encryption_key() == []
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    [error] = check_encryption_key()
    assert error.id == "connectors.E002"
    assert f"id {connection.pk} (client_secret)" in error.msg and f"id {connection.pk} (password)" in error.msg
    # With the old key still listed for decryption (rotation), all is readable again.
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode(), *original]
    assert check_encryption_key() == []


@pytest.mark.parametrize(
    "key,expected",
    [("", "FIELD_ENCRYPTION_KEY is not set"), ("malformed", "is not a valid Fernet key")],
)
def test_manage_py_refuses_to_start_with_a_bad_key(tmp_path, key, expected):
    env = {
        **os.environ,
        "SECRET_KEY": "x",
        "FIELD_ENCRYPTION_KEY": key,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert expected in result.stderr
    assert "generate one with" in result.stderr


@pytest.mark.django_db
def test_every_stored_secret_is_scanned_under_check_deploy_and_database_only(settings):
    """Before every command only the newest row is sampled (constant time); the scan of every
    stored value runs under `check --deploy` and `check --database`."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.db import connection as db

    older = InveniasConnection.objects.create(name="Older", subdomain="older", client_secret="s", password="p")
    InveniasConnection.objects.create(name="Newer", subdomain="newer", client_secret="s", password="p")
    # The older row's secret was encrypted with a key that is no longer configured.
    foreign = Fernet(Fernet.generate_key()).encrypt(b"s").decode()
    with db.cursor() as cursor:
        cursor.execute("UPDATE connectors_connection SET client_secret = %s WHERE id = %s", [foreign, older.pk])

    assert check_encryption_key() == []  # the sampled (newest) row reads fine
    call_command("check", verbosity=0)  # so every other command starts as fast at any size
    for options in (["--deploy"], ["--database", "default"]):
        with pytest.raises(SystemCheckError) as raised:
            call_command("check", *options, verbosity=0)
        assert "connectors.E002" in str(raised.value) and f"id {older.pk} (client_secret)" in str(raised.value)
