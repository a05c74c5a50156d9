"""What the browser tests do on the connection pages, named as a person would say it."""

import re

from playwright.sync_api import expect


def add_page(page, model):
    page.goto(f"/admin/connectors/{model}/add/")
    expect(page.get_by_role("tablist")).to_be_visible()


def field(page, name):
    # By id: some labels contain others ("Password" and "Clear the stored password").
    return page.locator(f"#id_{name}")


def open_tab(page, title):
    tab = page.get_by_role("tab", name=re.compile(rf"^{re.escape(title)}"))
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def click_test_connection(page):
    """Click Test Connection and return the result box once the answer is in."""
    page.get_by_role("button", name="Test Connection").click()
    result = page.locator("#pc-test-result")
    expect(result).to_have_class(re.compile(r"pc-result--(passed|failed)"))
    return result


def messages(page):
    return page.locator("ul.messagelist")


def token_state(page):
    return page.locator(".field-token_state .readonly")


def fingerprint(page):
    match = re.search(r"Fingerprint (\w+)", token_state(page).inner_text())
    assert match, token_state(page).inner_text()
    return match.group(1)


def all_input_values(page):
    return page.eval_on_selector_all("input, textarea, select", "elements => elements.map(e => e.value)")
