"""A browser set to German: the admin, the tabs that tabs.js builds and the answer of Test
Connection that test_connection.js shows are German, the JavaScript's words included."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import OPERATOR, TIMEOUT_MS
from tests.browser.pages import field
from tests.connections import make_hypatos


def test_a_german_browser_gets_german_tabs_buttons_and_test_answers(browser, app, operator, auth_server):
    connection = make_hypatos(auth_server, client_secret="not-the-secret")
    context = browser.new_context(base_url=app, locale="de-DE")  # Accept-Language: de-DE
    context.set_default_timeout(TIMEOUT_MS)
    errors = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/admin/login/")
        page.get_by_label("Benutzername").fill(OPERATOR[0])
        page.get_by_label("Passwort").fill(OPERATOR[1])
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("heading", name="Verbindungen zu Partner-APIs")).to_be_visible()

        page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/")
        expect(page.get_by_role("tab", name="Verbindung", exact=True)).to_have_attribute("aria-selected", "true")
        page.get_by_role("tab", name="OAuth 2.0").click()
        expect(field(page, "client_id")).to_be_visible()
        expect(page.locator("label[for=id_client_id]")).to_have_text("Client-ID:")

        page.get_by_role("button", name="Verbindung testen").click()
        result = page.locator("#pc-test-result")
        expect(result).to_have_class(re.compile(r"pc-result--failed"))
        expect(result).to_contain_text("Fehlgeschlagen beim Schritt „Token“")
        expect(result).to_contain_text("Der Anbieter hat die Client-ID oder das Client-Secret abgelehnt")

        # A field error marks its tab in German (a word of tabs.js from the JavaScript catalog).
        page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/")
        page.get_by_role("tab", name="OAuth 2.0").click()
        field(page, "token_url").fill("https://evil.example/token")
        page.get_by_role("button", name="Sichern", exact=True).first.click()
        expect(page.get_by_role("tab", name="OAuth 2.0 (enthält Fehler)")).to_be_visible()
        expect(page.get_by_text("gehört nicht zu den Hosts dieses Anbieters")).to_be_visible()
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
