"""The rules live on the models: full_clean() refuses what the admin form refuses, with the same
sentence on the same field, so that commands, imports and the API are as safe as the admin."""

import dataclasses
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from connectors.models import Connection, HypatosConnection, InveniasConnection, InverbisConnection
from connectors.partners.providers import PROVIDERS
from connectors.store import rules
from tests.forms_data import BAD_INPUT, BY_MODEL, add_url

pytestmark = pytest.mark.django_db


def model_instance(model_name, **changes):
    model = apps.get_model("connectors", model_name)
    return model(**{**BY_MODEL[model_name], **changes})


def full_clean_errors(instance):
    with pytest.raises(ValidationError) as raised:
        instance.full_clean()
    return raised.value.message_dict


def test_the_issue_example_is_refused_on_both_fields():
    errors = full_clean_errors(InverbisConnection(name="x", tenant="a/../b", token_url="https://evil.example/token"))
    assert "realm name" in errors["tenant"][0]
    assert "evil.example" in errors["token_url"][0] and "identity.inverbisanalytics.com" in errors["token_url"][0]


@pytest.mark.parametrize("model_name", BY_MODEL)
def test_the_seed_examples_pass_and_get_their_derived_urls(model_name):
    instance = model_instance(model_name)
    instance.full_clean()
    instance.save()
    stored = type(instance).objects.get()
    assert stored.provider == type(instance).PROVIDER_KEY
    assert stored.token_url.startswith("https://") and stored.token_url.endswith("token")


@pytest.mark.parametrize("model,field,value", BAD_INPUT)
def test_full_clean_refuses_what_the_form_refuses_with_the_same_sentence(admin_client, model, field, value):
    form_errors = admin_client.post(add_url(model), {**BY_MODEL[model], field: value}).context["adminform"].form.errors
    model_errors = full_clean_errors(model_instance(model, **{field: value}))
    assert field in model_errors, model_errors
    assert model_errors[field][0] == form_errors[field][0]
    assert Connection.objects.count() == 0


def test_normalizes_as_the_form_does():
    connection = model_instance("inverbisconnection", name="  Prod  ", scope="openid   offline_access ")
    connection.full_clean()
    assert connection.name == "Prod" and connection.scope == "openid offline_access"


def test_a_secret_keeps_its_spaces_but_not_a_line_break():
    connection = model_instance("hypatosconnection", client_secret=" s p ")
    connection.full_clean()
    assert connection.client_secret == " s p "
    assert "client_secret" in full_clean_errors(model_instance("hypatosconnection", client_secret="s\r\n"))


def test_an_unknown_provider_is_refused():
    connection = model_instance("hypatosconnection")
    connection.full_clean()
    connection.save()
    base = Connection.objects.get()
    base.provider = "nobody"
    with pytest.raises(ValidationError) as raised:
        base.full_clean()
    assert "provider" in raised.value.message_dict


def test_a_field_rule_belongs_to_its_provider_only():
    # Inverbis' tenant is a realm name; a field of the same name elsewhere inherits nothing.
    with pytest.raises(ValidationError):
        rules.clean_value(PROVIDERS["inverbis"], "tenant", "a/../b")
    other = dataclasses.replace(PROVIDERS["hypatos"], key="other", field_rules={})
    assert rules.clean_value(other, "tenant", "a/../b") == "a/../b"
    assert rules.clean_value(other, "subdomain", "evil.com/x") == "evil.com/x"
    # Rules every provider shares still apply.
    with pytest.raises(ValidationError):
        rules.clean_value(other, "scope", 'openid "api"')


# -- names are unique per provider regardless of case, in the database -------------------------


@pytest.mark.database
def test_the_database_refuses_a_name_differing_only_in_case():
    InveniasConnection.objects.create(**{**BY_MODEL["inveniasconnection"], "name": "Prod"})
    with pytest.raises(IntegrityError), transaction.atomic():
        InveniasConnection.objects.create(**{**BY_MODEL["inveniasconnection"], "name": "prod"})
    # Another provider may use the name.
    HypatosConnection.objects.create(**{**BY_MODEL["hypatosconnection"], "name": "PROD"})
    assert Connection.objects.count() == 2


@pytest.mark.database
def test_full_clean_names_the_duplicate_on_the_name_field():
    InveniasConnection.objects.create(**{**BY_MODEL["inveniasconnection"], "name": "Prod"})
    errors = full_clean_errors(model_instance("inveniasconnection", name="PROD"))
    assert errors["name"] == ["Another Invenias connection is already named “PROD”."]


# -- provider labels are read from the registry, never copied into migrations ------------------


def test_a_changed_provider_label_needs_no_migration(monkeypatch):
    renamed = dataclasses.replace(PROVIDERS["invenias"], label="Invenias (renamed)")
    monkeypatch.setitem(PROVIDERS, "invenias", renamed)
    assert ("invenias", "Invenias (renamed)") in Connection._meta.get_field("provider").choices
    # --check exits non-zero (SystemExit) when makemigrations would write a migration.
    call_command("makemigrations", "connectors", "--check", "--dry-run", stdout=StringIO())


def test_the_derive_urls_view_applies_the_providers_own_rules(admin_client):
    answer = admin_client.get("/admin/connectors/inverbisconnection/derive-urls/", {"tenant": "a/../b"}).json()
    assert answer["urls"] == {} and "realm name" in answer["errors"]["tenant"]
    answer = admin_client.get("/admin/connectors/inverbisconnection/derive-urls/", {"tenant": "acme", "server": "eu"})
    assert answer.json()["urls"]["token_url"] == (
        "https://identity.eu.inverbisanalytics.com/auth/realms/acme/protocol/openid-connect/token"
    )
    answer = admin_client.get("/admin/connectors/inveniasconnection/derive-urls/", {"subdomain": "evil.com/x"}).json()
    assert "one DNS label" in answer["errors"]["subdomain"]
