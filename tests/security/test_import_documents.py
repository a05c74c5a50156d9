"""Whatever a definitions file holds, the Import page and import_connections answer with a
sentence, never a server error or a traceback (issue 16, found item 5: a deeply nested file raised
RecursionError), and no document makes a stored secret or token follow a URL elsewhere."""

import io
import json
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from connectors.models import HypatosConnection
from connectors.partners.providers import PROVIDERS
from connectors.store import definitions
from tests.connections import make_hypatos
from tests.security import doors

pytestmark = pytest.mark.django_db

DEEP = "[" * 200_000 + "]" * 200_000
HUGE = json.dumps({"format": definitions.FORMAT, "version": 1, "connections": [], "pad": "x" * (3 * 1024 * 1024)})


def upload(client, text):
    file = SimpleUploadedFile("definitions.json", text.encode(), content_type="application/json")
    return client.post(doors.IMPORT_URL, {"file": file})


@pytest.mark.parametrize(
    "text,sentence",
    [
        (DEEP, "nests its values too deeply"),
        (HUGE, "larger than 2 MiB"),
        ("{not json", "not JSON"),
        ('{"format": "partner-connections/definitions", "version": [[[1]]], "connections": []}', "version"),
    ],
)
def test_a_bad_file_is_a_sentence_on_every_door(text, sentence, admin_client, tmp_path, monkeypatch):
    # The Import page, by upload and by the document posted back with Apply.
    answer = upload(admin_client, text)
    assert answer.status_code == 200 and sentence in answer.context["form"].errors["file"][0]
    if len(text) < 2 * 1024 * 1024:  # larger posts are refused by Django's own request limit (400)
        answer = admin_client.post(doors.IMPORT_URL, {"document": text, "_apply": "1"})
        assert answer.status_code == 200 and sentence in answer.context["form"].errors["file"][0]
    # import_connections, from a file and from standard input.
    path = tmp_path / "bad.json"
    path.write_text(text)
    output, error = doors.run_import_command(str(path))
    assert sentence in error
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    output, error = doors.run_import_command("-")
    assert sentence in error
    # The shell: a parsed document goes through parse(); a deeper one built in code is refused too.
    with pytest.raises(definitions.DocumentError):
        definitions.plan(definitions.parse(text))


def test_a_document_built_deeper_than_the_parser_allows_is_refused():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    document = {"format": definitions.FORMAT, "version": 1, "connections": [{"provider": deep, "name": deep}]}
    assert definitions.plan(document).items[0].action == "invalid"
    with pytest.raises(definitions.DocumentError):
        definitions.plan({"format": definitions.FORMAT, "version": deep, "connections": []})


@pytest.mark.parametrize(
    "entry",
    [
        {"provider": ["hypatos"], "name": "x"},
        {"provider": {"a": 1}, "name": "x"},
        {"provider": "hypatos", "name": "a\x00b"},
        {"provider": "hypatos", "name": "x" * 100_000, "fields": {"scope": ["a"]}},
        {"provider": "hypatos", "name": "n", "fields": {"token_url": {"deep": [1]}}, "secrets_to_enter": [[1], {}]},
    ],
)
def test_wrong_types_are_entry_errors(entry, admin_client):
    document = json.dumps({"format": definitions.FORMAT, "version": 1, "connections": [entry]})
    answer = upload(admin_client, document)
    assert answer.status_code == 200
    assert answer.context["plan"].items[0].action == "invalid"
    assert not answer.context["can_apply"]


# -- generated documents ---------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def well_formed(urls):
    """A document that updates the stored connection, its URLs drawn from home and elsewhere."""
    fields = st.fixed_dictionaries(
        {},
        optional={
            "endpoint_url": st.sampled_from(urls),
            "token_url": st.sampled_from(urls),
            "scope": st.sampled_from(["projects.read", "projects.read documents.read"]),
        },
    )
    entry = st.fixed_dictionaries(
        {"provider": st.just("hypatos"), "name": st.sampled_from(["Hypatos local", "HYPATOS LOCAL"]), "fields": fields}
    )
    return st.fixed_dictionaries(
        {
            "format": st.just(definitions.FORMAT),
            "version": st.just(1),
            "connections": st.lists(entry, min_size=1, max_size=1),
        }
    )


def documents(urls):
    """Definitions documents: well formed ones that move URLs, and ones with wrong types, other
    origins and noise."""
    # The first four URLs are allowed (home, and another port of its host); the rest are refused.
    # Twice the weight for the documents that change something: those are where a move happens.
    return st.one_of(well_formed(urls[:4]), well_formed(urls[:4]), noisy(urls))


def noisy(urls):
    fields = st.dictionaries(
        st.sampled_from(["endpoint_url", "token_url", "scope", "client_id", "name", "unknown"]),
        st.one_of(st.sampled_from(urls), st.text(max_size=30), JSON_VALUES),
        max_size=4,
    )
    entry = st.fixed_dictionaries(
        {
            "provider": st.one_of(st.just("hypatos"), st.sampled_from(list(PROVIDERS)), JSON_VALUES),
            "name": st.one_of(st.just("Hypatos local"), st.text(max_size=20), JSON_VALUES),
            "fields": st.one_of(fields, JSON_VALUES),
            "secrets_to_enter": st.one_of(st.just(["client_secret"]), JSON_VALUES),
        }
    )
    return st.fixed_dictionaries(
        {
            "format": st.one_of(st.just(definitions.FORMAT), JSON_VALUES),
            "version": st.one_of(st.just(1), JSON_VALUES),
            "connections": st.one_of(st.lists(st.one_of(entry, JSON_VALUES), max_size=3), JSON_VALUES),
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_generated_document_makes_a_server_error_or_moves_a_secret(data, admin_client, auth_server, fault_server):
    urls = [
        auth_server.hypatos_endpoint,
        auth_server.hypatos_token_url,
        fault_server.url("/v2"),
        fault_server.url("/token-ok"),
        auth_server.hypatos_token_url.replace("127.0.0.1", "localhost"),
        "https://attacker.example/token",
    ]
    document = data.draw(documents(urls))
    with transaction.atomic():
        connection = make_hypatos(auth_server, access_token="stored-token", refresh_token="")
        secret = connection.client_secret
        answer = upload(admin_client, json.dumps(document))
        assert answer.status_code == 200
        if answer.context["can_apply"]:
            applied = admin_client.post(doors.IMPORT_URL, {"document": json.dumps(document), "_apply": "1"})
            assert applied.status_code == 302
            event("applied")
        stored = HypatosConnection.objects.get(pk=connection.pk)
        home = {auth_server.hypatos_endpoint, auth_server.hypatos_token_url}
        if {stored.endpoint_url, stored.token_url} - home:
            event("moved elsewhere")
            assert (stored.client_secret, stored.access_token) == ("", "")
        else:
            assert (stored.client_secret, stored.access_token) == (secret, "stored-token")
        # And using it afterwards sends neither anywhere else.
        fault_server.reset()
        doors.use_in_the_shell(None, connection)
        credentials = doors.basic_credentials(auth_server.hypatos_client_id, secret)
        assert doors.leaked(fault_server.requests, secret, credentials, "stored-token") == []
        transaction.set_rollback(True)
