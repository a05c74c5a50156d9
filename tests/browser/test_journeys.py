"""The operator's five journeys (issue 4), in headless Chromium against the live app and the
real local authorization server. Each step asserts what the person sees on the page."""

import re

import pytest
from playwright.sync_api import expect

from connectors.models import Connection, HypatosConnection, InveniasConnection, InverbisConnection
from tests.browser.pages import (
    add_page,
    all_input_values,
    click_test_connection,
    field,
    fingerprint,
    messages,
    open_tab,
    token_state,
)

pytestmark = pytest.mark.django_db(transaction=True)

HYPATOS_DEFAULT = "https://api.cloud.hypatos.ai/v2"
INVERBIS_REALM = "https://identity{}.inverbisanalytics.com/auth/realms/{}/protocol/openid-connect/{}"


def test_hypatos_tested_before_saving_then_listed_with_its_status(admin_page, auth_server):
    page = admin_page
    add_page(page, "hypatosconnection")
    endpoint = field(page, "endpoint_url")
    expect(endpoint).to_have_value(HYPATOS_DEFAULT)
    open_tab(page, "OAuth 2.0")
    expect(page.get_by_text("Client Credentials")).to_be_visible()
    token_url = field(page, "token_url")
    expect(token_url).to_have_value(f"{HYPATOS_DEFAULT}/auth/token")

    # The local server stands in for the partner's endpoint: the token URL follows it.
    open_tab(page, "Connection")
    field(page, "name").fill("Hypatos sandbox")
    endpoint.fill(auth_server.hypatos_endpoint)
    open_tab(page, "OAuth 2.0")
    expect(token_url).to_have_value(auth_server.hypatos_token_url)
    field(page, "client_id").fill(auth_server.hypatos_client_id)
    field(page, "client_secret").fill(auth_server.hypatos_client_secret)
    field(page, "scope").fill("projects.read documents.read")

    # Hold the test request, so the page can be seen while it waits for the answer.
    held, posts = [], []
    page.route("**/test-connection/", lambda route: held.append(route))
    page.on("request", lambda request: posts.append(request) if "test-connection" in request.url else None)
    page.get_by_role("button", name="Test Connection").click()
    busy = page.get_by_role("button", name="Testing…")
    expect(busy).to_have_attribute("aria-busy", "true")
    expect(page.locator("#pc-test-result")).to_have_text("Testing the connection…")
    # An impatient second click (forced: Playwright itself will not click an aria-disabled
    # button) must not send a second test.
    busy.click(force=True)
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/test-connection/")

    result = page.locator("#pc-test-result")
    expect(result).to_have_class(re.compile("pc-result--passed"))
    expect(result.locator(".pc-result-outcome")).to_have_text("Passed")
    expect(result.locator(".pc-result-meta")).to_have_text(re.compile(r"^\(\d+ ms · HTTP 200\)$"))
    expect(result.locator(".pc-result-sentence")).to_contain_text("The settings work")
    expect(page.get_by_role("button", name="Test Connection")).not_to_have_attribute("aria-disabled", "true")
    assert len(posts) == 1
    # Nothing was saved and nothing typed was lost.
    expect(field(page, "client_secret")).to_have_value(auth_server.hypatos_client_secret)
    expect(field(page, "client_id")).to_have_value(auth_server.hypatos_client_id)
    assert not HypatosConnection.objects.exists()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(messages(page)).to_contain_text("was added successfully")
    page.goto("/admin/connectors/connection/")
    row = page.get_by_role("row", name=re.compile("Hypatos sandbox"))
    expect(row.locator(".pc-badge").first).to_have_text("ready (token on demand)")
    expect(row).to_contain_text("Hypatos.ai")
    # The test just before saving was of exactly the saved settings: it counts.
    expect(row).to_contain_text("passed")


def test_inverbis_urls_follow_typing_then_generate_test_regenerate_and_deny(admin_page, auth_server, app):
    page = admin_page
    add_page(page, "inverbisconnection")
    expect(page.locator(".field-authentication_type .readonly")).to_have_text("OAuth 2.0")
    field(page, "name").fill("Inverbis EU")
    field(page, "server").press_sequentially("eu")
    field(page, "tenant").press_sequentially("acme")
    auth_url, token_url = field(page, "authorization_url"), field(page, "token_url")
    expect(auth_url).to_have_value(INVERBIS_REALM.format(".eu", "acme", "auth"))
    expect(token_url).to_have_value(INVERBIS_REALM.format(".eu", "acme", "token"))
    field(page, "tenant").press_sequentially("-test")
    expect(auth_url).to_have_value(INVERBIS_REALM.format(".eu", "acme-test", "auth"))
    field(page, "server").fill("")
    expect(token_url).to_have_value(INVERBIS_REALM.format("", "acme-test", "token"))

    # URLs the operator typed (the local server instead of Inverbis) stay when the tenant changes.
    open_tab(page, "OAuth 2.0")
    auth_url.fill(auth_server.inverbis_auth_url)
    token_url.fill(auth_server.inverbis_token_url)
    open_tab(page, "Connection")
    field(page, "tenant").fill("acme")
    field(page, "tenant").press_sequentially("x")
    field(page, "tenant").press("Backspace")
    open_tab(page, "OAuth 2.0")
    expect(auth_url).to_have_value(auth_server.inverbis_auth_url)
    expect(token_url).to_have_value(auth_server.inverbis_token_url)
    field(page, "client_id").fill(auth_server.inverbis_client_id)
    expect(field(page, "scope")).to_have_value("openid offline_access")

    # Each connection has its own callback URL (the mix-up defence): before the first save, its
    # form with the number still to come.
    expect(page.locator("#pc-callback-url")).to_have_text(f"{app}/oauth/callback/number/")

    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.startswith(auth_server.base_url)
    page.get_by_label("Username").fill(auth_server.username)
    page.get_by_label("Password").fill(auth_server.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()

    expect(messages(page)).to_contain_text(re.compile(r"Authorized: the token expires in (59\sminutes|1\shour)\."))
    connection = InverbisConnection.objects.get(name="Inverbis EU")
    # Back on the OAuth 2.0 tab, where the new token shows.
    assert page.url == f"{app}/admin/connectors/inverbisconnection/{connection.pk}/change/#oauth"
    expect(page.get_by_role("tab", name="OAuth 2.0")).to_have_attribute("aria-selected", "true")
    open_tab(page, "OAuth 2.0")
    callback = f"{app}/oauth/callback/{connection.pk}/"
    expect(page.locator("#pc-callback-url")).to_have_text(callback)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == callback
    expect(token_state(page)).to_contain_text("expires in")
    expect(token_state(page)).to_contain_text("refresh token stored")
    assert connection.access_token not in page.content()
    assert connection.refresh_token not in page.content()
    expect(click_test_connection(page)).to_contain_text("Passed")
    first = fingerprint(page)

    # Regenerate: still signed in at the provider, so straight to its consent page.
    page.get_by_role("button", name="Regenerate").click()
    page.get_by_role("button", name="Allow").click()
    expect(messages(page)).to_contain_text("Authorized: the token expires in")
    open_tab(page, "OAuth 2.0")
    second = fingerprint(page)
    assert second != first

    page.get_by_role("button", name="Regenerate").click()
    page.get_by_role("button", name="Deny").click()
    expect(messages(page)).to_have_text(
        "Authorization was denied at the provider's login page. The previous token is kept."
    )
    open_tab(page, "OAuth 2.0")
    assert fingerprint(page) == second
    expect(click_test_connection(page)).to_contain_text("Passed")


def test_invenias_wrong_password_is_named_and_the_corrected_one_passes(admin_page, auth_server):
    page = admin_page
    add_page(page, "inveniasconnection")
    field(page, "name").fill("Invenias company")
    field(page, "subdomain").press_sequentially("company")
    expect(field(page, "api_url")).to_have_value("https://company.invenias.com/api/v1/")
    field(page, "api_url").fill(auth_server.invenias_api_url)
    open_tab(page, "OAuth 2.0")
    expect(field(page, "token_url")).to_have_value("https://company.invenias.com/identity/connect/token")
    field(page, "token_url").fill(auth_server.invenias_token_url)
    field(page, "client_id").fill(auth_server.invenias_client_id)
    field(page, "client_secret").fill(auth_server.invenias_client_secret)
    field(page, "username").fill(auth_server.username)
    field(page, "password").fill("wrong horse")

    result = click_test_connection(page)
    expect(result.locator(".pc-result-outcome")).to_have_text("Failed at the token step")
    expect(result).to_contain_text("refused the username or password")

    field(page, "password").fill(auth_server.password)
    result = click_test_connection(page)
    expect(result.locator(".pc-result-outcome")).to_have_text("Passed")
    assert not InveniasConnection.objects.exists()


def test_an_error_on_the_hidden_oauth_tab_opens_that_tab(admin_page):
    page = admin_page
    add_page(page, "hypatosconnection")
    field(page, "name").fill("Hypatos with a bad URL")
    open_tab(page, "OAuth 2.0")
    field(page, "client_id").fill("client")
    field(page, "token_url").fill("https://tokens.example.com/auth/token")
    open_tab(page, "Connection")
    expect(field(page, "token_url")).to_be_hidden()
    page.get_by_role("button", name="Save", exact=True).click()

    oauth_tab = page.get_by_role("tab", name="OAuth 2.0 (has errors)")
    expect(oauth_tab).to_have_attribute("aria-selected", "true")
    expect(field(page, "name")).to_be_hidden()
    error = page.locator(".field-token_url .errorlist")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The host “tokens.example.com” is not one of this provider's hosts")
    expect(field(page, "token_url")).to_have_value("https://tokens.example.com/auth/token")
    assert not Connection.objects.exists()


def test_saved_secrets_never_come_back_and_a_blank_secret_keeps_working(admin_page, auth_server):
    page = admin_page
    secret, password = auth_server.invenias_client_secret, auth_server.password
    add_page(page, "inveniasconnection")
    field(page, "name").fill("Invenias secrets")
    field(page, "subdomain").fill("company")
    field(page, "api_url").fill(auth_server.invenias_api_url)
    open_tab(page, "OAuth 2.0")
    field(page, "token_url").fill(auth_server.invenias_token_url)
    field(page, "client_id").fill(auth_server.invenias_client_id)
    field(page, "client_secret").fill(secret)
    field(page, "username").fill(auth_server.username)
    field(page, "password").fill(password)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(messages(page)).to_contain_text("was added successfully")

    def assert_no_secret_on_the_page():
        source, values = page.content(), all_input_values(page)
        for value in (secret, password):
            assert value not in source
            assert not any(value in entered for entered in values)

    assert_no_secret_on_the_page()
    open_tab(page, "OAuth 2.0")
    expect(page.locator(".field-client_secret .help")).to_contain_text("Set. Leave blank to keep the stored value.")
    expect(field(page, "client_secret")).to_have_value("")
    expect(field(page, "password")).to_have_value("")

    # Change something else and leave both secrets blank: the stored ones are kept and work.
    field(page, "scope").fill("openid profile api")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(messages(page)).to_contain_text("was changed successfully")
    assert_no_secret_on_the_page()
    stored = InveniasConnection.objects.get(name="Invenias secrets")
    assert (stored.client_secret, stored.password) == (secret, password)
    expect(click_test_connection(page)).to_contain_text("Passed")
    assert_no_secret_on_the_page()
