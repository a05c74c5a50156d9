"""The documentation's pictures (docs/screenshots/, shown by README and the docs pages), written
only by `make screenshots` (never by `make test`: a test run
leaves the working tree clean). Run in the same headless Chromium and against the same live app
and local authorization server as the browser tests:

    make screenshots     (or: .venv/bin/python -m pytest tests/browser/screenshots.py)

Pictures: the four provider forms with the documentation's example values, the overview with
its badges after a bulk test, a failed Test Connection with its sentence, and the event log.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection as db_connection
from django.utils import timezone
from playwright.sync_api import expect

from connectors.models import Connection, Status
from connectors.store import events
from tests.browser.pages import add_page, click_test_connection, field, open_tab
from tests.browser.test_accessibility import EXAMPLES
from tests.connections import make_hypatos, make_invenias, make_inverbis
from tests.processes import database_url
from tests.worker import running_worker

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def save(locator, name):
    locator.page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring
    SCREENSHOTS.mkdir(exist_ok=True)
    locator.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def public_address(settings):
    # A fixed public address, so the callback URL in the pictures is the same on every run.
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "PUBLIC_BASE_URL": "https://connections.example.com",
    }


@pytest.mark.parametrize("model", list(EXAMPLES))
def test_provider_form(admin_page, public_address, model):
    page = admin_page
    add_page(page, model)
    for name, value in EXAMPLES[model]["connection"].items():
        field(page, name).fill(value)
    open_tab(page, "OAuth 2.0")
    for name, value in EXAMPLES[model]["oauth"].items():
        field(page, name).fill(value)
    expect(field(page, "token_url")).not_to_have_value("")
    page.locator(".pc-note--warning").evaluate_all("notes => notes.forEach(note => note.remove())")  # the form only
    save(page.locator("#content"), model.removesuffix("connection"))


def test_overview_after_a_bulk_test(admin_page, auth_server):
    page = admin_page
    page.set_viewport_size({"width": 1280, "height": 800})
    now = timezone.now()
    make_hypatos(auth_server, name="Hypatos production")
    make_invenias(auth_server, name="Invenias recruiting", password="an old password")
    authorized = make_inverbis(auth_server, name="Inverbis EU")
    dead = make_inverbis(auth_server, name="Inverbis US")
    make_inverbis(auth_server, name="Inverbis staging")
    Connection.objects.filter(pk=authorized.pk).update(
        access_token="a",
        status=Status.AUTHORIZED,
        token_obtained_at=now,
        token_expires_at=now + timedelta(hours=3, minutes=5),
        token_account="operator",
        token_scope="openid offline_access",
    )
    Connection.objects.filter(pk=dead.pk).update(
        access_token="b",
        status=Status.NEEDS_REAUTHORIZATION,
        token_obtained_at=now - timedelta(days=2),
        token_expires_at=now - timedelta(days=1),
        status_reason="The provider no longer accepts the refresh token.",
    )
    page.goto("/admin/connectors/connection/")
    page.locator("#action-toggle").check()
    # Its token is a stand-in that the local server would refuse: leave it out of the test.
    page.get_by_role("row", name=re.compile("Inverbis EU")).get_by_role("checkbox").uncheck()
    page.locator("select[name=action]").select_option(label="Test selected connections")
    page.get_by_role("button", name="Go").click()
    # The bulk test runs in the background worker; its progress page says when it is done.
    with running_worker(database_url(db_connection)):
        expect(page.locator("#pc-bulk-status")).to_contain_text("Finished.")
    page.goto("/admin/connectors/connection/")
    save(page.locator("#container"), "overview")


def test_failed_test_and_event_log(admin_page, auth_server):
    page = admin_page
    page.set_viewport_size({"width": 1280, "height": 900})
    connection = make_hypatos(
        auth_server,
        name="Hypatos production",
        client_id=auth_server.hypatos_limited_client_id,
        client_secret=auth_server.hypatos_limited_client_secret,
        scope="documents.read",
    )
    events.record(connection, "created")
    page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/")
    open_tab(page, "OAuth 2.0")
    expect(click_test_connection(page)).to_contain_text("projects.read")
    save(page.locator("#content"), "failed-test")
    field(page, "client_id").fill(auth_server.hypatos_client_id)
    field(page, "client_secret").fill(auth_server.hypatos_client_secret)
    field(page, "scope").fill("projects.read documents.read")
    page.get_by_role("button", name="Save and continue editing").click()
    open_tab(page, "OAuth 2.0")
    expect(click_test_connection(page)).to_contain_text("Passed")
    page.reload()
    save(page.locator(".pc-events"), "event-log")
