"""The provider forms accept the seeds' examples, derive the documented URLs, and refuse bad
input with a message on the field to fix while storing nothing."""

import pytest

from connectors.models import Connection, HypatosConnection, InveniasConnection, InverbisConnection
from tests.forms_data import BAD_INPUT, BY_MODEL, HYPATOS, INVERBIS, add_url, change_url

pytestmark = pytest.mark.django_db


def post_form(client, model, **changes):
    return client.post(add_url(model), {**BY_MODEL[model], **changes})


def test_inverbis_without_server_derives_keycloak_urls(admin_client):
    response = post_form(admin_client, "inverbisconnection")
    assert response.status_code == 302
    connection = InverbisConnection.objects.get()
    assert connection.authorization_url == (
        "https://identity.inverbisanalytics.com/auth/realms/acme/protocol/openid-connect/auth"
    )
    assert connection.token_url == (
        "https://identity.inverbisanalytics.com/auth/realms/acme/protocol/openid-connect/token"
    )
    assert connection.provider == "inverbis"


def test_inverbis_with_server_segment(admin_client):
    response = post_form(admin_client, "inverbisconnection", server="eu")
    assert response.status_code == 302
    connection = InverbisConnection.objects.get()
    assert connection.token_url == (
        "https://identity.eu.inverbisanalytics.com/auth/realms/acme/protocol/openid-connect/token"
    )


def test_inverbis_derived_urls_follow_a_changed_tenant_but_not_an_edited_url(admin_client):
    post_form(admin_client, "inverbisconnection")
    connection = InverbisConnection.objects.get()
    data = {
        **INVERBIS,
        "tenant": "other",
        "authorization_url": connection.authorization_url,
        "token_url": "https://identity.inverbisanalytics.com/auth/realms/custom/protocol/openid-connect/token",
    }
    response = admin_client.post(change_url("inverbisconnection", connection.pk), data)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert "/realms/other/" in connection.authorization_url  # was the default: follows
    assert "/realms/custom/" in connection.token_url  # typed by the operator: kept


def test_invenias_subdomain_example(admin_client):
    response = post_form(admin_client, "inveniasconnection")
    assert response.status_code == 302
    connection = InveniasConnection.objects.get()
    assert connection.token_url == "https://company.invenias.com/identity/connect/token"
    assert connection.api_url == "https://company.invenias.com/api/v1/"
    assert connection.scope == "openid profile api email"


def test_hypatos_default_endpoint_and_token_url(admin_client):
    page = admin_client.get(add_url("hypatosconnection")).content.decode()
    assert 'value="https://api.cloud.hypatos.ai/v2"' in page
    for endpoint in ("https://api.hypatos.com/v2", "https://api.dev.hypatos.ai/v2"):
        assert f'<option value="{endpoint}">' in page
    response = post_form(admin_client, "hypatosconnection")
    assert response.status_code == 302
    connection = HypatosConnection.objects.get()
    assert connection.token_url == "https://api.cloud.hypatos.ai/v2/auth/token"


def test_hypatos_other_documented_endpoint(admin_client):
    post_form(admin_client, "hypatosconnection", endpoint_url="https://api.hypatos.com/v2")
    assert HypatosConnection.objects.get().token_url == "https://api.hypatos.com/v2/auth/token"


def test_several_connections_per_provider_but_names_unique(admin_client):
    assert post_form(admin_client, "hypatosconnection").status_code == 302
    assert post_form(admin_client, "hypatosconnection", name="Second account").status_code == 302
    response = post_form(admin_client, "hypatosconnection", name=HYPATOS["name"].upper())
    assert "name" in response.context["adminform"].form.errors
    # The same name at another provider is fine.
    assert post_form(admin_client, "inveniasconnection", name=HYPATOS["name"]).status_code == 302


@pytest.mark.parametrize("model,field,value", BAD_INPUT)
def test_bad_input_is_refused_on_its_field_and_nothing_is_stored(admin_client, model, field, value):
    response = post_form(admin_client, model, **{field: value})
    assert response.status_code == 200  # the form again, never a server error
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert errors[field][0]  # a message the operator can read
    assert Connection.objects.count() == 0


@pytest.mark.parametrize("model,field,value", BAD_INPUT)
def test_bad_input_on_edit_changes_nothing(admin_client, model, field, value):
    assert post_form(admin_client, model).status_code == 302
    connection = Connection.objects.get()
    before = {f.name: getattr(connection.specific, f.name) for f in connection.specific._meta.fields}
    response = admin_client.post(change_url(model, connection.pk), {**BY_MODEL[model], field: value})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    connection = Connection.objects.get().specific
    after = {f.name: getattr(connection, f.name) for f in connection._meta.fields}
    assert after == before


def test_messages_say_what_to_fix(admin_client):
    response = post_form(admin_client, "inveniasconnection", subdomain="evil.com/x")
    message = response.context["adminform"].form.errors["subdomain"][0]
    assert "one DNS label" in message
    response = post_form(admin_client, "inverbisconnection", token_url="https://evil.example/token")
    message = response.context["adminform"].form.errors["token_url"][0]
    assert "evil.example" in message and "identity.inverbisanalytics.com" in message


def test_loopback_allowed_only_through_settings(admin_client, settings):
    url = "http://127.0.0.1:9999/auth/realms/acme/protocol/openid-connect/token"
    assert post_form(admin_client, "inverbisconnection", token_url=url).status_code == 302
    Connection.objects.all().delete()
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "EXTRA_ALLOWED_HOSTS": []}
    response = post_form(admin_client, "inverbisconnection", token_url=url)
    assert "token_url" in response.context["adminform"].form.errors


def test_form_shows_tabs_fixed_values_and_callback(admin_client):
    page = admin_client.get(add_url("inverbisconnection")).content.decode()
    assert page.index(">Connection<") < page.index(">OAuth 2.0<")
    assert "Authentication Type" in page and "OAuth 2.0" in page
    # Each connection has its own callback URL (the mix-up defence): before the first save its
    # form, ending in the number the save gives; once saved, complete with a copy button.
    assert '<code id="pc-callback-url">http://127.0.0.1:8000/oauth/callback/<var>number</var>/</code>' in page
    assert "given when it is first saved" in page
    assert post_form(admin_client, "inverbisconnection").status_code == 302
    pk = Connection.objects.get().pk
    change = admin_client.get(f"/admin/connectors/inverbisconnection/{pk}/change/").content.decode()
    assert f"http://127.0.0.1:8000/oauth/callback/{pk}/" in change and "Copy" in change
    for label in ("Server", "Tenant", "Client ID", "Client Secret", "Authorization URL", "Access Token URL"):
        assert label in page
    hypatos = admin_client.get(add_url("hypatosconnection")).content.decode()
    assert "Grant Type" in hypatos and "Client Credentials" in hypatos
    assert "oauth/callback" not in hypatos  # nothing to register for client credentials
    # Fixed values are shown, not editable.
    assert 'name="grant_type"' not in hypatos and 'name="authentication_type"' not in page
