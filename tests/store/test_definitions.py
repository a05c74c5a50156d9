"""Connection definitions as data: export_connections / import_connections, the admin's export
and duplicate actions."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from connectors.models import Connection, HypatosConnection, InveniasConnection, InverbisConnection
from connectors.partners.providers import PROVIDERS
from connectors.store import definitions
from tests.connections import make_hypatos, make_invenias, make_inverbis

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    """(stdout, exit status) of a command called in-process."""
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=StringIO())
    except CommandError as error:
        return out.getvalue() + str(error), error.returncode
    return out.getvalue(), 0


def write(tmp_path, document, name="definitions.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


@pytest.fixture
def three(auth_server):
    """One connection per provider, each with secrets and tokens stored."""
    hypatos = make_hypatos(auth_server, scope="projects.read")
    hypatos.get_access_token()
    invenias = make_invenias(auth_server)
    invenias.get_access_token()
    inverbis = make_inverbis(auth_server, refresh_token="a-refresh-token", access_token="an-access-token")
    inverbis.server = "eu"  # (make_inverbis's first argument is named `server` too)
    inverbis.save()
    return hypatos, invenias, inverbis


def secrets_of(connections):
    values = []
    for connection in connections:
        connection = Connection.objects.get(pk=connection.pk).specific
        values += [connection.client_secret, connection.access_token, connection.refresh_token]
        values.append(getattr(connection, "password", ""))
    return [value for value in values if value]


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_export_then_import_into_an_empty_database_gives_the_same_definitions(three, tmp_path):
    exported = tmp_path / "definitions.json"
    assert run("export_connections", "-o", str(exported))[1] == 0
    text = exported.read_text()
    secrets = secrets_of(three)
    assert len(secrets) >= 6 and not [secret for secret in secrets if secret in text]
    document = json.loads(text)
    assert [c["name"] for c in document["connections"]] == ["Hypatos local", "Invenias local", "Inverbis local"]

    # Another installation: a new, empty database, reached only through manage.py.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    manage(env, "migrate", "--noinput", "-v", "0")
    dry_run = manage(env, "import_connections", str(exported))
    assert dry_run.count("CREATE") == 3 and "Dry run: nothing was saved" in dry_run
    assert json.loads(manage(env, "export_connections"))["connections"] == []
    applied = manage(env, "import_connections", str(exported), "--apply")
    assert "3 created" in applied
    assert "Hypatos.ai · Hypatos local: Client Secret" in applied
    assert "Invenias · Invenias local: Client Secret, Password" in applied
    again = json.loads(manage(env, "export_connections"))
    # The same definitions; no secret came along, so none is listed as set.
    for entry in document["connections"]:
        entry["secrets_to_enter"] = []
    assert again["connections"] == document["connections"]
    assert "UNCHANGED" in manage(env, "import_connections", str(exported))


def test_dry_run_shows_create_update_unchanged_with_changed_fields_and_saves_nothing(three, tmp_path):
    hypatos, invenias, inverbis = three
    document = definitions.export_document(Connection.objects.order_by("pk"))
    entries = {entry["provider"]: entry for entry in document["connections"]}
    entries["hypatos"]["fields"]["scope"] = "projects.read documents.read"
    entries["hypatos"]["name"] = "HYPATOS LOCAL"  # matched ignoring case
    new = json.loads(json.dumps(entries["invenias"]))
    new["name"] = "Invenias staging"
    document["connections"].append(new)
    path = write(tmp_path, document)

    report, status = run("import_connections", path)

    assert status == 0
    assert "UPDATE    Hypatos.ai · HYPATOS LOCAL" in report
    assert "Scope: 'projects.read' → 'projects.read documents.read'" in report
    assert "Name: 'Hypatos local' → 'HYPATOS LOCAL'" in report
    assert "UNCHANGED Invenias · Invenias local" in report
    assert "CREATE    Invenias · Invenias staging" in report
    assert "1 to create, 1 to update, 2 unchanged, 0 invalid." in report
    # Only the new connection lacks the secrets its source had.
    assert report.count("Secrets to enter afterwards") == 1
    assert "Secrets to enter afterwards: Client Secret, Password" in report
    hypatos.refresh_from_db()
    assert hypatos.scope == "projects.read" and Connection.objects.count() == 3

    report, status = run("import_connections", path, "--apply")
    assert status == 0 and "1 created, 1 updated, 2 unchanged" in report
    hypatos.refresh_from_db()
    assert hypatos.scope == "projects.read documents.read" and hypatos.name == "HYPATOS LOCAL"
    assert hypatos.client_secret and hypatos.access_token  # same host: secrets and tokens kept
    assert InveniasConnection.objects.get(name="Invenias staging").password == ""
    assert hypatos.events.filter(action="changed", detail__contains="Scope").exists()


def test_invalid_entries_are_named_and_nothing_is_saved(three, tmp_path):
    document = definitions.export_document(Connection.objects.order_by("pk"))
    valid = json.loads(json.dumps(document["connections"][0]))
    valid["name"] = "Would be created"
    document["connections"] += [
        valid,
        {"provider": "acme", "name": "Unknown", "fields": {}},
        {"provider": "inverbis", "name": "No tenant", "fields": {"tenant": ""}},
        {"provider": "hypatos", "name": "Odd field", "fields": {"password": "x", "scope": 5}},
        {"provider": "hypatos", "name": "x" * 101, "fields": {}},
        {"provider": "hypatos", "name": "Elsewhere", "fields": {"token_url": "https://tokens.example.com/token"}},
    ]

    report, status = run("import_connections", write(tmp_path, document), "--apply")

    assert status == 1 and "Nothing was saved" in report
    assert f"Provider: “acme” is not one of {', '.join(PROVIDERS)}." in report
    assert "INVALID   Inverbis Analytics · No tenant" in report
    assert "Tenant: This field cannot be blank." in report
    assert "password: not a field of a Hypatos.ai — Partner connection connection." in report
    assert "Scope: expected text." in report
    assert "Name: Ensure this value has at most 100 characters" in report
    assert "INVALID   Hypatos.ai · Elsewhere" in report
    assert "Access Token URL: The host “tokens.example.com” is not one of this provider's hosts" in report
    assert not Connection.objects.filter(name="Would be created").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "Cannot read"),
        ('{"format": "other", "version": 1, "connections": []}', "not a connection definitions document"),
        ('{"format": "partner-connections/definitions", "version": 2, "connections": []}', "version 2"),
        ('{"format": "partner-connections/definitions", "version": 1}', "no list of connections"),
    ],
)
def test_unreadable_documents_get_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    report, status = run("import_connections", str(path))
    assert status != 0 and message in report


def test_an_import_moving_a_url_to_another_host_clears_secrets_and_tokens(three, tmp_path):
    hypatos = three[0]
    document = definitions.export_document([hypatos])
    entry = document["connections"][0]["fields"]
    entry["token_url"] = "https://api.hypatos.com/v2/auth/token"  # another of the provider's own hosts
    path = write(tmp_path, document)

    report, _status = run("import_connections", path)
    assert "the stored secrets and tokens will be cleared" in report
    report, status = run("import_connections", path, "--apply")

    assert status == 0 and "Hypatos local: Client Secret" in report
    hypatos.refresh_from_db()
    assert hypatos.client_secret == "" and hypatos.access_token == "" and "api.hypatos.com" in hypatos.token_url


# --- the admin's actions -------------------------------------------------------------------------------


def test_admin_export_action_downloads_json_without_secrets(three, admin_client):
    answer = admin_client.post(
        "/admin/connectors/connection/",
        {"action": "export_selected", "_selected_action": [c.pk for c in three]},
    )

    assert answer.status_code == 200 and answer["Content-Disposition"].startswith("attachment;")
    text = answer.content.decode()
    assert not [secret for secret in secrets_of(three) if secret in text]
    assert len(definitions.plan(json.loads(text)).items) == 3


def test_duplicate_copies_a_connection_without_its_secrets(three, admin_client):
    invenias = three[1]
    for _ in range(2):
        page = admin_client.post(
            "/admin/connectors/inveniasconnection/",
            {"action": "duplicate_selected", "_selected_action": [invenias.pk]},
            follow=True,
        )
        assert "Enter their secrets before use" in page.content.decode()

    copy, second = InveniasConnection.objects.filter(name__startswith="Invenias local (").order_by("pk")
    assert (copy.name, second.name) == ("Invenias local (copy)", "Invenias local (copy 2)")
    for field in definitions.definition_fields(InveniasConnection):
        assert getattr(copy, field) == getattr(invenias, field)
    assert (copy.client_secret, copy.password, copy.access_token) == ("", "", "")
    assert copy.events.filter(action="created", detail__contains="duplicated").exists()


def test_duplicate_needs_the_add_permission(three, client, staff_factory):
    client.force_login(staff_factory("viewer", "view_connection", "view_hypatosconnection"))
    page = client.post(
        "/admin/connectors/connection/",
        {"action": "duplicate_selected", "_selected_action": [three[0].pk]},
        follow=True,
    )
    assert "Not duplicated (you may not add them)" in page.content.decode()
    assert HypatosConnection.objects.count() == 1
    assert InverbisConnection.objects.count() == 1


def test_admin_import_page_shows_the_dry_run_then_applies(three, admin_client):
    document = definitions.export_document(Connection.objects.order_by("pk"))
    document["connections"][0]["fields"]["scope"] = "documents.read"
    copy = json.loads(json.dumps(document["connections"][1]))
    copy["name"] = "Invenias imported"
    document["connections"].append(copy)
    overview = admin_client.get("/admin/connectors/connection/").content.decode()
    assert 'href="/admin/connectors/connection/import/"' in overview

    upload = SimpleUploadedFile("definitions.json", json.dumps(document).encode(), "application/json")
    page = admin_client.post("/admin/connectors/connection/import/", {"file": upload})

    text = page.content.decode()
    assert page.status_code == 200 and "Nothing has been saved yet." in text
    assert "Scope: “projects.read” → “documents.read”" in text and "Invenias imported" in text
    assert HypatosConnection.objects.get().scope == "projects.read"
    applied = admin_client.post(
        "/admin/connectors/connection/import/",
        {"document": json.dumps(document), "_apply": "Apply"},
        follow=True,
    )
    text = applied.content.decode()
    assert "Imported: 1 created, 1 updated, 2 unchanged." in text
    # The message links to the connection's OAuth 2.0 tab, where the secrets are typed.
    imported = InveniasConnection.objects.get(name="Invenias imported")
    link = (
        f'<a href="/admin/connectors/inveniasconnection/{imported.pk}/change/#oauth">Invenias · Invenias imported</a>'
    )
    assert f"{link}: enter Client Secret, Password." in text
    assert HypatosConnection.objects.get().scope == "documents.read"
    assert InveniasConnection.objects.get(name="Invenias imported").password == ""


def test_admin_import_page_refuses_bad_files_and_changes_without_permission(three, client, staff_factory):
    client.force_login(staff_factory("viewer", "view_connection", "view_hypatosconnection"))
    page = client.post(
        "/admin/connectors/connection/import/",
        {"file": SimpleUploadedFile("x.json", b"{not json", "application/json")},
    )
    assert "The file is not JSON" in page.content.decode()

    document = definitions.export_document([three[0]])
    document["connections"][0]["fields"]["scope"] = "documents.read"
    refused = client.post("/admin/connectors/connection/import/", {"document": json.dumps(document), "_apply": "1"})
    assert "you may not create or change it" in refused.content.decode()
    assert HypatosConnection.objects.get().scope == "projects.read"
