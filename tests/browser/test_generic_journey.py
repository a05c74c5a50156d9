"""The generic OpenID Connect / OAuth 2.0 provider in headless Chromium: the operator types only
the issuer and the client, Generate saves (discovery fills the endpoints), logs in at the suite's
real authorization server with PKCE, comes back authorized, and Test Connection passes."""

import re

import pytest
from playwright.sync_api import expect

from connectors.models import GenericConnection
from tests.browser.pages import add_page, click_test_connection, field, messages, open_tab, token_state

pytestmark = pytest.mark.django_db(transaction=True)


def test_generic_provider_discovers_authorizes_and_tests(admin_page, auth_server, app):
    page = admin_page
    add_page(page, "genericconnection")
    field(page, "name").fill("Partner via discovery")
    field(page, "issuer_url").fill(auth_server.generic_issuer)
    expect(field(page, "token_url")).to_have_value("")  # discovery runs when the form is saved
    open_tab(page, "OAuth 2.0")
    expect(field(page, "grant")).to_have_value("authorization_code")
    field(page, "client_authentication").select_option("client_secret_basic")
    field(page, "client_id").fill(auth_server.generic_client_id)
    field(page, "client_secret").fill(auth_server.generic_client_secret)
    field(page, "scope").fill("openid offline_access")
    # Each connection has its own callback URL, shown once it is saved (README, Security).
    expect(page.locator("#pc-callback-url")).to_contain_text(f"{app}/oauth/callback/")

    auth_server.reset_stats()
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The partner's login page, on the way to the discovered authorization endpoint.
    assert page.url.startswith(f"{auth_server.base_url}/accounts/login/?next=/oidc/authorize")
    page.get_by_label("Username").fill(auth_server.username)
    page.get_by_label("Password").fill(auth_server.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()

    expect(messages(page)).to_contain_text(re.compile(r"Authorized: the token expires in"))
    connection = GenericConnection.objects.get()
    assert page.url == f"{app}/admin/connectors/genericconnection/{connection.pk}/change/#oauth"
    assert auth_server.stats()["client_authentication"] == {"generic client_secret_basic": 1}
    # The discovered endpoints are on the page, editable.
    open_tab(page, "Connection")
    expect(field(page, "authorization_url")).to_have_value(auth_server.generic_auth_url)
    expect(field(page, "token_url")).to_have_value(auth_server.generic_token_url)
    expect(field(page, "userinfo_url")).to_have_value(auth_server.generic_userinfo_url)
    expect(field(page, "revocation_url")).to_have_value(auth_server.generic_revocation_url)
    open_tab(page, "OAuth 2.0")
    expect(token_state(page)).to_contain_text("refresh token stored")
    assert connection.client_secret not in page.content()
    assert connection.access_token not in page.content()
    result = click_test_connection(page)
    expect(result).to_contain_text("Passed")
    expect(result).to_contain_text(f"{auth_server.host} answered the test request")


def test_choosing_a_template_shows_only_its_fields(admin_page):
    page = admin_page
    add_page(page, "genericconnection")
    # Fully generic: no template input shows.
    expect(field(page, "template")).to_have_value("")
    for name in ("domain", "authorization_server", "tenant", "realm", "audience"):
        expect(field(page, f"template_{name}")).to_be_hidden()
    field(page, "template").select_option(label="Okta")
    expect(field(page, "template_domain")).to_be_visible()
    expect(field(page, "template_authorization_server")).to_be_visible()
    expect(field(page, "template_tenant")).to_be_hidden()
    field(page, "template").select_option(label="Microsoft Entra ID")
    expect(field(page, "template_tenant")).to_be_visible()
    expect(field(page, "template_domain")).to_be_hidden()
