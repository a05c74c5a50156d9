"""Text from operators and partners is cleaned before anyone reads it: input refuses control,
format and separator characters (bidi overrides included); a partner's words in a sentence keep
printable characters only and are cut to a sentence."""

import pytest
from django.utils import timezone

from connectors.core import text
from connectors.models import HypatosConnection, Status
from tests.connections import make_hypatos
from tests.forms_data import HYPATOS, add_url

pytestmark = pytest.mark.django_db

INVISIBLE = {
    "right-to-left override": "\u202e",
    "first strong isolate": "\u2068",
    "left-to-right isolate": "\u2066",
    "soft hyphen": "\u00ad",
    "zero width joiner": "\u200d",
    "tag letter A": "\U000e0041",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "escape": "\x1b",
    "next line": "\x85",
}


@pytest.mark.parametrize("character", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("field", ["name", "client_id"])
def test_invisible_characters_are_refused_in_names_and_client_ids(admin_client, field, character):
    data = {**HYPATOS, field: f"acme{character}gnp.exe"}
    response = admin_client.post(add_url("hypatosconnection"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "invisible characters" in errors[field][0]
    assert not HypatosConnection.objects.exists()


def test_ordinary_non_ascii_names_are_kept(admin_client):
    response = admin_client.post(add_url("hypatosconnection"), {**HYPATOS, "name": "Müller & Søn — Zürich 東京"})
    assert response.status_code == 302
    assert HypatosConnection.objects.get().name == "Müller & Søn — Zürich 東京"


def test_partner_words_keep_printable_characters_and_are_cut():
    assert text.partner_words("bad\u202e\x1b[31mthing\r\nhere") == "bad [31mthing here"
    assert len(text.partner_words("x" * 10_000)) == text.PARTNER_WORDS_LIMIT
    assert text.partner_words({"nested": ["object"]}) == "{'nested': ['object']}"


def test_a_partners_content_type_is_cleaned_in_the_sentence(admin_client, auth_server, fault_server):
    connection = make_hypatos(auth_server, token_url=fault_server.url("/odd-content-type"))
    connection.status = Status.AUTHORIZED
    connection.token_expires_at = timezone.now()
    connection.save()
    response = admin_client.post(
        f"/admin/connectors/hypatosconnection/{connection.pk}/test-connection/", HTTP_ACCEPT="application/json"
    )
    message = response.json()["message"]
    assert "not JSON" in message
    assert all(character.isprintable() for character in message)
    assert len(message) < 300
    events = connection.events.values_list("detail", flat=True)
    assert events and all(all(c.isprintable() for c in detail) for detail in events)
