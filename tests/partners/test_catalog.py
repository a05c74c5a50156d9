"""The catalog of provider templates (connectors/partners/providers/catalog/): each file passes
the schema and gives the issuer its provider documents, and each works end to end against the
suite's authorization server shaped like that provider (tests/authserver/shapes.py): the
template is moved to loopback (only `https://host` becomes `http://127.0.0.1:port/hosts/host`),
saved through the admin with its example values, authorized, tested and regenerated."""

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages

from connectors.models import GenericConnection, Status
from connectors.partners.providers import catalog
from connectors.partners.providers.generic import template_field
from tests.authserver.shapes import SHAPES
from tests.connections import generic_form
from tests.forms_data import add_url, change_url

MODEL = "genericconnection"

# The issuer each provider's documentation gives for the template's example values.
DOCUMENTED_ISSUERS = {
    "auth0": "https://acme.eu.auth0.com/",
    "entra-id": "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0",
    "google": "https://accounts.google.com",
    "keycloak": "https://sso.example.com/realms/acme",
    "okta": "https://dev-123456.okta.com/oauth2/default",
    "salesforce": "https://acme.my.salesforce.com",
    "zitadel": "https://acme-xyz123.zitadel.cloud",
}
# The quirks each sends with the authorization request (beyond RFC 6749's and PKCE's).
DOCUMENTED_AUTHORIZE_PARAMETERS = {
    "auth0": {"audience": "https://api.acme.example"},
    "google": {"access_type": "offline", "prompt": "consent"},
}


def examples(template):
    return {parameter.name: parameter.example for parameter in template.parameters}


def form_values(template):
    return {template_field(name): value for name, value in examples(template).items()}


def moved(template, server):
    """The template as the provider shaped on loopback answers it."""
    return template.model_copy(update={"issuer": template.issuer.replace("https://", f"{server.base_url}/hosts/", 1)})


def test_there_are_at_least_six_templates_and_each_is_listed_here():
    assert len(catalog.templates()) >= 6
    assert set(catalog.templates()) == set(DOCUMENTED_ISSUERS)


@pytest.mark.parametrize("key", sorted(DOCUMENTED_ISSUERS))
def test_each_template_gives_the_documented_issuer_and_cites_its_documentation(key):
    template = catalog.get(key)
    assert template.issuer_for(examples(template)) == DOCUMENTED_ISSUERS[key]
    assert template.documentation and all(str(url).startswith("https://") for url in template.documentation)
    assert str(template.quirks)
    assert template.parameters_for(template.authorize_parameters, examples(template)) == (
        DOCUMENTED_AUTHORIZE_PARAMETERS.get(key, {})
    )


# -- the schema ----------------------------------------------------------------------------------

GOOD = """
name = "Example"
documentation = ["https://docs.example.com/oidc"]
issuer = "https://{domain}/oidc"
scope = "openid profile"
revokes_single_tokens = true
quirks = { en = "None.", de = "Keine." }

[[parameters]]
name = "domain"
label = { en = "Domain", de = "Domain" }
help = { en = "The host.", de = "Der Host." }
pattern = '[a-z.]+'
example = "login.example.com"
"""


def write(directory, name, text):
    (Path(directory) / name).write_text(text, encoding="utf-8")


def test_adding_a_template_is_one_data_file(tmp_path):
    write(tmp_path, "example.toml", GOOD)
    template = catalog.load(tmp_path)["example"]
    assert template.name == "Example" and template.issuer_for({"domain": "id.acme.example"}) == (
        "https://id.acme.example/oidc"
    )


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("revokes_single_tokens = true\n", ""), "revokes_single_tokens: Field required"),
        (('issuer = "https://{domain}/oidc"', 'issuer = "http://{domain}/oidc"'), "issuer: String should match"),
        (('issuer = "https://{domain}/oidc"', 'issuer = "https://{tenant}/oidc"'), "without a parameter: tenant"),
        (('example = "login.example.com"', 'example = "Login.Example"'), "does not match the parameter's own"),
        (('scope = "openid profile"', 'scope = "openid profile"\nsecret = "x"'), "secret: Extra inputs"),
        (('documentation = ["https://docs.example.com/oidc"]', "documentation = []"), "documentation: "),
        (("pattern = '[a-z.]+'", "pattern = '[a-z'"), "not a regular expression"),
    ],
)
def test_a_file_the_schema_refuses_stops_the_start_naming_file_and_field(tmp_path, change, said):
    write(tmp_path, "broken.toml", GOOD.replace(*change))
    with pytest.raises(catalog.CatalogError) as refused:
        catalog.load(tmp_path)
    assert "Provider template broken.toml" in str(refused.value)
    assert said in str(refused.value)


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    write(tmp_path, "broken.toml", "name = ")
    with pytest.raises(catalog.CatalogError, match="broken.toml: not valid TOML"):
        catalog.load(tmp_path)


# -- each template end to end on loopback ----------------------------------------------------


def come_back(client, callback_url):
    parts = urlsplit(callback_url)
    response = client.get(f"{parts.path}?{parts.query}")
    return str(list(get_messages(response.wsgi_request))[-1])


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(DOCUMENTED_ISSUERS))
def test_each_template_works_against_a_server_shaped_like_its_provider(
    key, admin_client, auth_server, monkeypatch, django_capture_on_commit_callbacks
):
    template = moved(catalog.get(key), auth_server)
    monkeypatch.setattr(catalog, "templates", lambda: {**catalog.load(), key: template})
    shape = SHAPES[urlsplit(DOCUMENTED_ISSUERS[key]).hostname]
    data = {**generic_form(auth_server, issuer_url="", scope=""), "template": key, **form_values(template)}
    response = admin_client.post(add_url(MODEL), {**data, "_generate": "1"})
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    connection = GenericConnection.objects.get()
    # The issuer, exactly; the template's scope; its revocation fact.
    assert connection.issuer_url == auth_server.shaped(DOCUMENTED_ISSUERS[key])
    assert connection.scope == template.scope
    assert connection.revokes_single_tokens is template.revokes_single_tokens
    assert connection.template_values == template.values_with_defaults(examples(template))
    # The authorization request carries the template's quirks.
    query = parse_qs(urlsplit(response["Location"]).query)
    for name, value in DOCUMENTED_AUTHORIZE_PARAMETERS.get(key, {}).items():
        assert query[name] == [value]
    said = come_back(admin_client, auth_server.authorize(response["Location"]))
    assert said.startswith("Authorized:"), said
    connection.refresh_from_db()
    assert connection.status == Status.AUTHORIZED and connection.refresh_token
    # Connected as: the name with scope profile, the sub without it.
    expected_account = auth_server.username if "profile" in template.scope.split() else "user-"
    assert connection.token_account.startswith(expected_account)
    if template.token_answer_fields:  # Salesforce: the test request goes to the instance_url
        assert connection.token_details == {"instance_url": auth_server.shaped("acme.my.salesforce.com")}
        assert connection.provider_info.probe_url(connection) == auth_server.shaped(
            "acme.my.salesforce.com", "/services/oauth2/userinfo"
        )
    if template.token_parameters:  # Auth0: the audience with the token request too
        recorded = auth_server.stats()["parameters"][f"hosts/{urlsplit(DOCUMENTED_ISSUERS[key]).hostname} token"]
        assert recorded["audience"] == examples(template)["audience"]
    test_url = f"/admin/connectors/{MODEL}/{connection.pk}/test-connection/"
    assert admin_client.post(test_url, HTTP_ACCEPT="application/json").json()["passed"]

    # Regenerate: revokes the replaced token only where the provider revokes single tokens,
    # and the new authorization works either way.
    auth_server.reset_stats()
    page = admin_client.get(change_url(MODEL, connection.pk)).content.decode()
    assert str(template.quirks.en) in page
    form = {**data, "client_secret": "", "issuer_url": connection.issuer_url, "_generate": "1"}
    response = admin_client.post(change_url(MODEL, connection.pk), form)
    with django_capture_on_commit_callbacks(execute=True):
        assert come_back(admin_client, auth_server.authorize(response["Location"])).startswith("Authorized:")
    revoked = template.revokes_single_tokens and bool(shape.revocation)
    assert sum(auth_server.stats()["revocations"].values()) == (1 if revoked else 0)
    assert admin_client.post(test_url, HTTP_ACCEPT="application/json").json()["passed"]


@pytest.mark.django_db
def test_a_template_value_that_does_not_fit_is_a_sentence_on_its_field(admin_client, auth_server):
    data = {**generic_form(auth_server, issuer_url=""), "template": "entra-id", template_field("tenant"): "contoso.com"}
    response = admin_client.post(add_url(MODEL), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors[template_field("tenant")] == [
        "Enter the Tenant ID as Microsoft Entra ID shows it, e.g. 8eaef023-2b34-4da1-9baa-8bc8c9d6a490."
    ]
    assert not GenericConnection.objects.exists()


@pytest.mark.django_db
def test_the_form_offers_the_templates_and_only_their_inputs(admin_client):
    page = admin_client.get(add_url(MODEL)).content.decode()
    for template in catalog.templates().values():
        assert f'<option value="{template.key}">{template.name}</option>' in page
        for parameter in template.parameters:
            assert f'name="{template_field(parameter.name)}"' in page
    assert "None: any provider, fully generic" in page
    assert "data-template-parameters" in page and "connectors/templates.js" in page


@pytest.mark.django_db
def test_a_template_connection_is_exported_and_imported_with_its_values(auth_server):
    from connectors.store import definitions

    values = {"domain": "dev-123456.okta.com", "authorization_server": "default"}
    fields = generic_form(
        auth_server,
        issuer_url=auth_server.generic_issuer,
        authorization_url=auth_server.generic_auth_url,
        token_url=auth_server.generic_token_url,
    )
    fields = {k: v for k, v in fields.items() if k not in ("client_secret", "username", "password")}
    GenericConnection.objects.create(**fields, template="okta", template_values=values, revokes_single_tokens=True)
    document = definitions.export_document(GenericConnection.objects.all())
    GenericConnection.objects.all().delete()
    import_plan = definitions.plan(json.loads(json.dumps(document)))
    assert import_plan.valid, [item.errors for item in import_plan.items]
    definitions.apply(import_plan)
    imported = GenericConnection.objects.get()
    assert (imported.template, imported.template_values, imported.revokes_single_tokens) == ("okta", values, True)
    # A value the template cannot use is named, not stored.
    document["connections"][0]["fields"]["template_values"] = {"domain": 42}
    assert not definitions.plan(document).valid
