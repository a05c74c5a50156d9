"""The contract every provider in the registry keeps (as allauth's OAuth2TestsMixin does for its
providers): walking PROVIDERS, a provider that forgets a piece fails here.

For each provider: its form renders both tabs with its own fields; its rules refuse bad input
(tests/forms_data.py must list some); a token request goes to the route shaped like its own at
the suite's real authorization server, with the client authentication it declares; its probe
runs; its secrets are never rendered back; its admin section and permissions exist.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission

from connectors.core.callback import callback_url
from connectors.engine import diagnostics, tokens
from connectors.models import Connection
from connectors.partners import grants, oauth
from connectors.partners.providers import PROVIDERS
from connectors.partners.providers.base import AUTHORIZATION_CODE
from tests.connections import make_generic, make_hypatos, make_invenias, make_inverbis
from tests.forms_data import BAD_INPUT, BY_MODEL, add_url, change_url

pytestmark = pytest.mark.django_db

# Per provider: a connection at the test server, and the name its token route counts under.
AT_TEST_SERVER = {
    "inverbis": (make_inverbis, "inverbis"),
    "invenias": (make_invenias, "invenias"),
    "hypatos": (make_hypatos, "hypatos"),
    "generic": (make_generic, "generic"),
}


def obtain_token(server, connection):
    """A token by the connection's grant; authorization code logs in at the test server without
    a browser (its login and consent pages, as the browser tests click them) and exchanges."""
    grant = grants.of(connection)
    if grant is not grants.get_grant(AUTHORIZATION_CODE):
        return grant.fetch_token(connection)
    verifier = oauth.new_pkce_verifier()
    redirect = server.authorize(oauth.authorization_url(connection, callback_url(), "contract", verifier))
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    return grant.exchange_code(connection, code, verifier, callback_url())


def model_of(provider):
    return next(model for model in admin.site._registry if model.__name__ == provider.model_name)


@pytest.fixture(params=list(PROVIDERS))
def provider(request):
    return PROVIDERS[request.param]


def test_every_provider_has_its_test_pieces(provider):
    model_name = provider.model_name.lower()
    assert model_name in BY_MODEL, "tests/forms_data.py: valid form data (BY_MODEL)"
    assert any(model == model_name for model, _field, _value in BAD_INPUT), "tests/forms_data.py: BAD_INPUT"
    assert provider.key in AT_TEST_SERVER, "this file: a connection at the test server"


def test_the_form_renders_both_tabs_with_the_providers_fields(admin_client, provider):
    page = admin_client.get(add_url(provider.model_name.lower()))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<fieldset class="module aligned pc-tab') == 2
    assert 'class="fieldset-heading">Connection</h2>' in html
    assert 'class="fieldset-heading">OAuth 2.0</h2>' in html
    for name in (*provider.connection_fields, *provider.oauth_fields):
        assert f'name="{name}"' in html, name


def test_the_rules_refuse_each_bad_input(provider):
    model = model_of(provider)
    bad = [(field, value) for name, field, value in BAD_INPUT if name == provider.model_name.lower()]
    for field, value in bad:
        instance = model(**{**BY_MODEL[provider.model_name.lower()], field: value})
        with pytest.raises(Exception) as refused:
            instance.full_clean()
        assert field in refused.value.message_dict, (field, value)


@pytest.mark.django_db(transaction=True)
def test_a_token_request_goes_to_its_own_route_with_the_declared_client_authentication(auth_server, provider):
    make, route = AT_TEST_SERVER[provider.key]
    connection = make(auth_server)
    auth_server.reset_stats()
    assert obtain_token(auth_server, connection)["access_token"]
    stats = auth_server.stats()
    method = provider.client_authentication_of(connection)
    # A public client (client_secret_post without a secret) sends its ID alone.
    expected = "none" if method == "client_secret_post" and not connection.client_secret else method
    assert stats["by_provider"] == {route: 1}
    assert stats["client_authentication"] == {f"{route} {expected}": 1}


@pytest.mark.django_db(transaction=True)
def test_the_probe_runs(auth_server, provider):
    make, _route = AT_TEST_SERVER[provider.key]
    connection = make(auth_server)
    if grants.of(connection) is grants.get_grant(AUTHORIZATION_CODE):
        # Test Connection uses the stored token of this grant: authorize first.
        tokens.store_token(connection, obtain_token(auth_server, connection))
        connection.save()
    result = diagnostics.run_test(connection)
    assert result.passed, result.sentence
    assert result.status == 200


def test_secrets_are_write_only(admin_client, provider):
    model_name = provider.model_name.lower()
    data = BY_MODEL[model_name]
    assert admin_client.post(add_url(model_name), data).status_code == 302
    connection = Connection.objects.get().specific
    secrets = [name for name in ("client_secret", "password") if data.get(name)]
    html = admin_client.get(change_url(model_name, connection.pk)).content.decode()
    for name in secrets:
        assert getattr(connection, name) == data[name]  # stored
        assert data[name] not in html  # never rendered back


def test_the_admin_section_and_permissions_exist(admin_client, provider):
    model = model_of(provider)
    assert model._meta.verbose_name_plural
    codenames = set(
        Permission.objects.filter(content_type__model=model._meta.model_name).values_list("codename", flat=True)
    )
    assert {f"{action}_{model._meta.model_name}" for action in ("add", "change", "delete", "view")} <= codenames
    index = admin_client.get("/admin/connectors/").content.decode()
    assert str(model._meta.verbose_name_plural) in index
