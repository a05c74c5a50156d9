"""The app speaks the reader's language: a German reader (Accept-Language: de) sees German pages,
failure sentences and events, also for what happened under an English request; the German
catalog translates every message of the code, and the committed .mo files match their .po files."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

from connectors.core.sentences import Sentence
from connectors.models import Event, HypatosConnection
from connectors.store import events
from tests.connections import hypatos_form, make_hypatos

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "connectors" / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%(?:\([a-z_]+\))?[sdr]|\{[a-z_]*\}")

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}


def test_there_is_a_german_catalog_for_python_and_javascript():
    assert {path.relative_to(LOCALE).as_posix() for path in CATALOGS} >= {
        "de/LC_MESSAGES/django.po",
        "de/LC_MESSAGES/djangojs.po",
    }


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda path: path.relative_to(LOCALE).as_posix())
def test_every_message_is_translated_with_the_same_placeholders(po_path):
    catalog = polib.pofile(str(po_path))
    assert not catalog.untranslated_entries(), [entry.msgid for entry in catalog.untranslated_entries()]
    assert not catalog.fuzzy_entries(), [entry.msgid for entry in catalog.fuzzy_entries()]
    assert "Plural-Forms" in catalog.metadata
    for entry in catalog:
        expected = sorted(set(PLACEHOLDER.findall(entry.msgid)))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(set(PLACEHOLDER.findall(text))) == expected, (entry.msgid, text)


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda path: path.relative_to(LOCALE).as_posix())
def test_the_committed_mo_file_is_compiled_from_its_po_file(po_path):
    """The .mo files are committed (the app needs no gettext tools to run): each must hold exactly
    what its .po says; after editing a .po, run `make messages`."""

    def pairs(catalog):
        return {
            (entry.msgctxt, entry.msgid): dict(entry.msgstr_plural) if entry.msgid_plural else entry.msgstr
            for entry in catalog
            if entry.msgid
        }

    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    assert pairs(polib.mofile(str(mo_path))) == pairs(polib.pofile(str(po_path))), (
        f"{mo_path.name} is not compiled from the current {po_path.name}: run `make messages`"
    )


def test_every_message_in_the_code_has_a_german_translation(tmp_path):
    """makemessages over a copy of the code: a message the code gained since the catalog was last
    updated fails here, with its text."""
    for part in ("connectors", "templates", "static", "project"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("*.mo", "__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": "extracting-messages-only",
        "FIELD_ENCRYPTION_KEY": "8J_3b2lW4Pg9kUeWfCBJ0G9oCqYB7jVJbRuo1iq_4hM=",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "de", "-d", domain, "--no-obsolete"],
            cwd=tmp_path,
            env=environment,
            check=True,
            capture_output=True,
        )
        extracted = polib.pofile(str(tmp_path / "connectors/locale/de/LC_MESSAGES" / f"{domain}.po"))
        committed = {
            (entry.msgctxt, entry.msgid)
            for entry in polib.pofile(str(LOCALE / "de/LC_MESSAGES" / f"{domain}.po"))
            if entry.translated()
        }
        new = [entry.msgid for entry in extracted if (entry.msgctxt, entry.msgid) not in committed]
        assert not new, f"without a German translation in {domain}.po (run `make messages`, then translate): {new}"


# -- what a German reader sees ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_change_page_renders_in_german(admin_client, auth_server):
    connection = make_hypatos(auth_server)

    page = admin_client.get(f"/admin/connectors/hypatosconnection/{connection.pk}/change/", **GERMAN)

    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="de"' in html
    for german in (
        "Verbindung testen",  # the Test Connection button
        'class="fieldset-heading">Verbindung</h2>',  # the Connection tab (tabs.js makes it a tab)
        "Client-ID",
        "Client-Secret",
        "Access-Token-URL",
        "Endpunkt-URL",
        "Grant-Typ",
        "Zustand:",
        "Ereignisse",
        "Sichern",
        "Tokens werden bei Bedarf abgerufen",
    ):
        assert german in html, german
    assert "Test Connection checks the settings" not in html
    # The JavaScript strings come from the catalog view, an external script (no inline script).
    assert '<script src="/jsi18n/"' in html
    catalog = admin_client.get("/jsi18n/", **GERMAN).content.decode()
    assert "Kopiert" in catalog and "Die Verbindung wird getestet" in catalog


@pytest.mark.django_db
def test_an_english_reader_still_reads_english(admin_client, auth_server):
    connection = make_hypatos(auth_server)
    html = admin_client.get(
        f"/admin/connectors/hypatosconnection/{connection.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Test Connection" in html and "Verbindung testen" not in html


@pytest.mark.django_db
def test_a_refused_client_secret_is_said_in_german(admin_client, auth_server):
    """Test Connection against the suite's authorization server with a wrong client secret."""
    connection = make_hypatos(auth_server, client_secret="not-the-secret")

    answer = admin_client.post(
        f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/",
        HTTP_ACCEPT="application/json",
        **GERMAN,
    ).json()

    assert answer["passed"] is False
    assert answer["headline"] == "Fehlgeschlagen beim Schritt „Token“"
    assert answer["message"] == (
        "Der Anbieter hat die Client-ID oder das Client-Secret abgelehnt (invalid_client): "
        "Prüfen Sie beides auf der Registerkarte „OAuth 2.0“."
    )
    assert "not-the-secret" not in str(answer)


@pytest.mark.django_db
def test_a_failure_carries_a_code_and_parameters_and_speaks_the_readers_language(auth_server):
    from connectors.core import failures
    from connectors.partners import grants

    connection = make_hypatos(auth_server, token_url=f"{auth_server.base_url}/no-such-path")
    with pytest.raises(failures.OAuthFailure) as raised:
        grants.of(connection).fetch_token(connection)
    failure = raised.value
    assert failure.kind == "not_found" and failure.status == 404
    # The fields to check are the provider's own (Provider.url_source_fields).
    assert failure.code == "not_found_token" and failure.params["host"] == "127.0.0.1"
    with translation.override("en"):
        assert str(failure) == "127.0.0.1 has no such address (HTTP 404): check the URL (and Endpoint URL)."
    with translation.override("de"):
        assert str(failure) == (
            "127.0.0.1 kennt diese Adresse nicht (HTTP 404): Prüfen Sie die URL (und Endpunkt-URL)."
        )


@pytest.mark.django_db
def test_an_event_stored_under_english_reads_in_german(admin_client, auth_server):
    connection = make_hypatos(auth_server, client_secret="not-the-secret")
    admin_client.post(
        f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/",
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    event = connection.events.get(action="test failed")
    # Stored as a code and parameters (and the English text for the log), never the secret.
    assert event.code == "test_outcome_status"
    assert event.params["message"] == {"code": "invalid_client", "params": {}}
    assert event.detail.startswith("Failed at the token step")
    assert "not-the-secret" not in str(event.params) + event.detail

    html = admin_client.get(f"/admin/connectors/hypatosconnection/{connection.pk}/change/", **GERMAN).content.decode()

    assert "Test fehlgeschlagen" in html  # the action
    assert "Fehlgeschlagen beim Schritt „Token“" in html  # the detail
    assert "Der Anbieter hat die Client-ID oder das Client-Secret abgelehnt (invalid_client)" in html
    assert "The provider refused" not in html
    # The list's last-test tooltip reads the stored sentence in German too.
    listing = admin_client.get("/admin/connectors/hypatosconnection/", **GERMAN).content.decode()
    assert "Der Anbieter hat die Client-ID oder das Client-Secret abgelehnt" in listing


@pytest.mark.django_db
def test_changed_fields_are_named_in_the_readers_language(admin_client, auth_server):
    connection = make_hypatos(auth_server)
    form = {k: v for k, v in hypatos_form(auth_server, scope="projects.read").items() if k != "client_secret"}
    admin_client.post(f"/admin/connectors/hypatosconnection/{connection.pk}/change/", form)
    event = connection.events.get(action="changed")
    with translation.override("de"):
        assert event.message.endswith("Scope") and "Endpunkt-URL" in event.message
    form["client_id"] = "another-client"
    admin_client.post(f"/admin/connectors/hypatosconnection/{connection.pk}/change/", form, **GERMAN)
    event = connection.events.filter(action="changed").first()
    # Saved by a German reader, shown in English to an English one: labels are stored as msgids.
    with translation.override("en"):
        assert event.message.endswith("Client ID")
    with translation.override("de"):
        assert event.message.endswith("Client-ID") and "Client ID" not in event.message


@pytest.mark.django_db
def test_an_old_event_keeps_its_stored_text(auth_server):
    """Events stored before sentences had codes show their English text as it is."""
    connection = make_hypatos(auth_server)
    old = Event.objects.create(connection=connection, action="tested", detail="Passed (12 ms): it worked.")
    with translation.override("de"):
        assert old.message == "Passed (12 ms): it worked."
        assert old.action_label == "getestet"


@pytest.mark.django_db
def test_plurals_are_real_in_both_languages(auth_server):
    connection = make_hypatos(auth_server)
    for seconds, english, german in ((1, "1 second", "1 Sekunde"), (5, "5 seconds", "5 Sekunden")):
        stored = events.record(
            connection, "test failed", succeeded=False, detail=Sentence("timeout", host="h.example", seconds=seconds)
        )
        assert f"within {english}:" in stored.detail
        with translation.override("de"):
            assert f"innerhalb von {german} geantwortet" in Event.objects.get(pk=stored.pk).message


@pytest.mark.django_db
def test_a_model_rule_speaks_german(auth_server):
    connection = HypatosConnection(**hypatos_form(auth_server, token_url="https://evil.example/token"))
    with translation.override("de"), pytest.raises(Exception) as refused:
        connection.full_clean()
    assert "gehört nicht zu den Hosts dieses Anbieters" in str(refused.value)


@pytest.mark.django_db
def test_the_api_key_form_is_not_a_connection_form(admin_client):
    page = admin_client.get("/admin/connectors/apikey/add/", **GERMAN).content.decode()
    assert "API-Schlüssel hinzufügen" in page
    assert "Verbindung testen" not in page and "pc-test-button" not in page
