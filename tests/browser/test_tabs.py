"""The tabs: the chosen one survives a reload, and without JavaScript both tabs are plain
stacked sections that still work."""

from playwright.sync_api import expect

from tests.browser.conftest import OPERATOR
from tests.browser.pages import add_page, field, open_tab


def test_the_chosen_tab_survives_a_reload(admin_page):
    page = admin_page
    add_page(page, "hypatosconnection")
    expect(field(page, "client_id")).to_be_hidden()  # the Connection tab opens first
    open_tab(page, "OAuth 2.0")
    expect(field(page, "client_id")).to_be_visible()
    page.reload()
    expect(page.get_by_role("tab", name="OAuth 2.0")).to_have_attribute("aria-selected", "true")
    expect(field(page, "client_id")).to_be_visible()
    expect(field(page, "endpoint_url")).to_be_hidden()


def test_without_javascript_the_tabs_are_stacked_sections(browser, app, operator):
    context = browser.new_context(base_url=app, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/admin/login/")
        page.get_by_label("Username").fill(OPERATOR[0])
        page.get_by_label("Password").fill(OPERATOR[1])
        page.get_by_role("button", name="Log in").click()
        page.goto("/admin/connectors/hypatosconnection/add/")
        expect(page.get_by_role("tablist")).to_have_count(0)
        for heading in ("Connection", "OAuth 2.0"):
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        # Both sections' fields are there to fill, one below the other.
        expect(field(page, "endpoint_url")).to_be_visible()
        expect(field(page, "client_id")).to_be_visible()
    finally:
        context.close()
