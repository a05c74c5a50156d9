"""Accessibility of every page the operator uses (axe-core: labels, contrast, focus order and
the rest of its WCAG 2 A/AA rules) and keyboard use of the tabs. The README's pictures are
written by `make screenshots` (tests/browser/screenshots.py), never by a test run."""

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone
from playwright.sync_api import expect

from connectors.models import Connection
from tests.browser.accessibility import assert_accessible, blocking_violations
from tests.browser.conftest import log_in
from tests.browser.pages import add_page, click_test_connection, field, open_tab
from tests.connections import make_hypatos, make_invenias, make_inverbis
from tests.processes import database_url
from tests.worker import running_worker

pytestmark = pytest.mark.django_db(transaction=True)

# Example values from the providers' documentation, typed as an operator would.
EXAMPLES = {
    "inverbisconnection": {
        "connection": {"name": "Inverbis EU", "server": "eu", "tenant": "acme"},
        "oauth": {"client_id": "partner-connections"},
    },
    "inveniasconnection": {
        "connection": {"name": "Invenias company", "subdomain": "company"},
        "oauth": {
            "client_id": "client-123",
            "client_secret": "example-secret",
            "username": "integration@company.example",
            "password": "example-password",
        },
    },
    "hypatosconnection": {
        "connection": {"name": "Hypatos studio"},
        "oauth": {
            "client_id": "hypatos-client",
            "client_secret": "example-secret",
            "scope": "projects.read documents.read",
        },
    },
    "genericconnection": {
        "connection": {
            "name": "Partner sandbox",
            "issuer_url": "https://login.partner.example",
            "token_url": "https://login.partner.example/oauth2/token",
        },
        "oauth": {"client_id": "partner-client", "client_secret": "example-secret"},
    },
}


def test_the_check_finds_what_it_should(page):
    # The check itself must be able to fail: an unlabelled field and grey-on-grey text.
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<input type="text"><p style="color:#aaa;background:#bbb">faint</p></main></body></html>'
    )
    found = " ".join(blocking_violations(page))
    assert "label" in found and "color-contrast" in found


def test_login_and_index_pages(page, operator):
    page.goto("/admin/login/")
    assert_accessible(page, "the login page")
    log_in(page)
    assert_accessible(page, "the admin index")


@pytest.mark.parametrize("model", list(EXAMPLES))
def test_provider_form_is_accessible(admin_page, settings, model):
    page = admin_page
    # A public address on another host: the page also carries the callback warning.
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "PUBLIC_BASE_URL": "https://connections.example.com",
    }
    add_page(page, model)
    for name, value in EXAMPLES[model]["connection"].items():
        field(page, name).fill(value)
    assert_accessible(page, f"the {model} form, Connection tab")
    open_tab(page, "OAuth 2.0")
    for name, value in EXAMPLES[model]["oauth"].items():
        field(page, name).fill(value)
    expect(field(page, "token_url")).not_to_have_value("")  # derived while typing
    assert_accessible(page, f"the {model} form, OAuth 2.0 tab")


def test_form_with_errors_and_test_result_is_accessible(admin_page):
    page = admin_page
    add_page(page, "hypatosconnection")
    field(page, "name").fill("Broken")
    open_tab(page, "OAuth 2.0")
    field(page, "token_url").fill("http://tokens.example.com/token")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("tab", name="OAuth 2.0 (has errors)")).to_have_attribute("aria-selected", "true")
    assert_accessible(page, "a form with errors")
    expect(click_test_connection(page)).to_contain_text("Fix the form first")
    assert_accessible(page, "a form with a failed test result")


def test_tabs_work_from_the_keyboard(admin_page):
    page = admin_page
    add_page(page, "inverbisconnection")
    connection_tab = page.get_by_role("tab", name="Connection")
    connection_tab.focus()
    page.keyboard.press("ArrowRight")
    oauth_tab = page.get_by_role("tab", name="OAuth 2.0")
    expect(oauth_tab).to_be_focused()
    expect(oauth_tab).to_have_attribute("aria-selected", "true")
    # Focus order: from the selected tab, Tab enters its panel's first field.
    page.keyboard.press("Tab")
    expect(field(page, "client_id")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowLeft")
    expect(connection_tab).to_be_focused()
    page.keyboard.press("Tab")
    expect(field(page, "name")).to_be_focused()


def test_overview_badges_filters_search_and_bulk_test(admin_page, auth_server):
    page = admin_page
    make_hypatos(auth_server, name="Hypatos works")
    make_invenias(auth_server, name="Invenias wrong password", password="wrong horse")
    authorized = make_inverbis(auth_server, name="Inverbis authorized")
    expired = make_inverbis(auth_server, name="Inverbis expired")
    now = timezone.now()
    Connection.objects.filter(pk=authorized.pk).update(
        access_token="opaque-token-one", status="authorized", token_expires_at=now + timedelta(hours=3, minutes=5)
    )
    Connection.objects.filter(pk=expired.pk).update(
        access_token="opaque-token-two", status="authorized", token_expires_at=now - timedelta(minutes=1)
    )

    page.goto("/admin/connectors/connection/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(4)

    def row(name):
        return page.get_by_role("row", name=name)

    expect(row("Inverbis authorized")).to_contain_text("authorized (expires in 3\u00a0hours)")
    expect(row("Inverbis expired")).to_contain_text("expired")
    expect(row("Hypatos works")).to_contain_text("ready (token on demand)")
    expect(row("Invenias wrong password")).to_contain_text("never tested")
    assert_accessible(page, "the overview")

    page.locator("#searchbar").fill("wrong")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Invenias wrong password")
    page.goto("/admin/connectors/connection/")
    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="Hypatos.ai", exact=True).click()
    expect(rows).to_have_count(1)
    filters.get_by_role("link", name="All").first.click()
    filters.get_by_role("link", name="authorized", exact=True).click()
    expect(rows).to_have_count(1)
    page.goto("/admin/connectors/connection/")

    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option(label="Test selected connections")
    page.get_by_role("button", name="Go").click()
    # The request only enqueued the tests: the progress page shows nothing done yet, then
    # updates by itself (no reload) while a real worker process runs them.
    status = page.locator("#pc-bulk-status")
    expect(status).to_contain_text("0 of 4 tested: 0 passed, 0 failed, 0 not tested.")
    assert_accessible(page, "the bulk test's progress page")
    with running_worker(database_url(db_connection)):
        # The expired token without a refresh token cannot be tested at all: not tested, not failed.
        expect(status).to_contain_text("4 of 4 tested: 1 passed, 2 failed, 1 not tested.")
        expect(status).to_contain_text("Finished.")
    failures = page.locator("#pc-bulk-failures li")
    expect(failures).to_have_count(3)
    wrong_password = failures.filter(has_text="Invenias wrong password")
    expect(wrong_password).to_contain_text("Failed at the token step")
    expect(wrong_password).to_contain_text("username or password")
    assert_accessible(page, "the bulk test's progress page, finished")
    wrong_password.get_by_role("link", name="Invenias wrong password").click()
    expect(page.get_by_role("heading", name="Change Invenias connection")).to_be_visible()
    page.goto("/admin/connectors/connection/")
    expect(row("Hypatos works")).to_contain_text("passed")
    expect(row("Invenias wrong password")).to_contain_text("failed")
    assert_accessible(page, "the overview after a bulk test")
    filters.get_by_role("link", name="failed", exact=True).click()
    expect(rows).to_have_count(2)
