"""The five cases of issue 17, as an operator meets them in headless Chromium: each fault shows
the state connectors/store/health.py's decision table gives it (docs/health.md)."""

import re

import pytest
import requests
from playwright.sync_api import expect

from connectors.engine import diagnostics, schedule
from connectors.models import Connection
from connectors.store import apikeys
from tests.browser.pages import click_test_connection, field, messages, open_tab
from tests.connections import make_hypatos, make_invenias, make_inverbis
from tests.engine.test_concurrency import authorize_inverbis
from tests.worker import run_ready_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def row(page, name):
    return page.get_by_role("row", name=re.compile(re.escape(name)))


def badge_in(locator, code):
    return locator.locator(f'.pc-badge[data-health="{code}"]')


def test_a_wrong_client_secret_is_red_names_the_fields_and_is_not_retried(admin_page, auth_server, app):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos wrong secret", client_secret="not-the-client-secret")
    _key, raw = apikeys.create("billing-service", connections=[connection], may_obtain_tokens=True)

    def ask_for_a_token():
        return requests.post(
            f"{app}/api/v1/connections/{connection.pk}/token",
            headers={"Authorization": f"Bearer {raw}"},
            json={},
            timeout=30,
        )

    answer = ask_for_a_token()
    assert answer.status_code == 502 and answer.json()["kind"] == "invalid_client"

    page.goto("/admin/connectors/connection/")
    badge = badge_in(row(page, "Hypatos wrong secret"), "settings_refused")
    expect(badge).to_have_text("settings refused (check Client ID, Client Secret)")
    expect(badge).to_have_class(re.compile("pc-badge--danger"))
    expect(badge).to_have_attribute("title", re.compile(r"client ID or client secret.*nothing is retried"))
    expect(row(page, "Hypatos wrong secret").get_by_role("link", name="Fix settings")).to_be_visible()
    page.goto("/admin/")
    expect(page.locator(".pc-attention")).to_have_text("Needs your attention: 1 connection with settings refused")

    # Neither a consumer asking again nor the worker asks the provider again.
    auth_server.reset_stats()
    assert ask_for_a_token().status_code == 502
    assert auth_server.stats()["total"] == 0
    assert connection.pk not in schedule.due_connection_ids()

    # Two Test Connection runs ask again (a person asks), and it stays red.
    page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/")
    for _ in range(2):
        result = click_test_connection(page)
        expect(result).to_contain_text("client ID or client secret")
        expect(badge_in(page.locator("#pc-health-badge"), "settings_refused")).to_be_visible()
    assert auth_server.stats()["total"] == 2

    # Fixing the secret lifts the refusal; until a test passes the new settings are unproven.
    open_tab(page, "OAuth 2.0")
    field(page, "client_secret").fill(auth_server.hypatos_client_secret)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(badge_in(page.locator("#pc-health-badge"), "changed")).to_have_text("changed since last test")
    click_test_connection(page)
    expect(badge_in(page.locator("#pc-health-badge"), "ready")).to_be_visible()


def test_a_settings_change_is_not_green_until_tested(admin_page, auth_server):
    page = admin_page
    connection = authorize_inverbis(auth_server, name="Inverbis tenant")
    assert diagnostics.run_test(connection, record=True).passed
    page.goto("/admin/connectors/connection/")
    expect(badge_in(row(page, "Inverbis tenant"), "authorized")).to_be_visible()
    expect(row(page, "Inverbis tenant")).to_contain_text("passed")

    page.goto(f"/admin/connectors/inverbisconnection/{connection.pk}/change/")
    field(page, "tenant").fill("acme-typo")
    open_tab(page, "OAuth 2.0")
    field(page, "authorization_url").fill(auth_server.inverbis_auth_url.replace("/acme/", "/acme-typo/"))
    field(page, "token_url").fill(auth_server.inverbis_token_url.replace("/acme/", "/acme-typo/"))
    page.get_by_role("button", name="Regenerate").click()
    expect(messages(page)).to_contain_text("has no realm at this address (HTTP 404): check the Tenant field")

    page.goto("/admin/connectors/connection/")
    changed = row(page, "Inverbis tenant")
    badge = badge_in(changed, "changed")
    expect(badge).to_have_text("changed since last test")
    expect(badge).to_have_class(re.compile("pc-badge--warning"))
    expect(changed).to_contain_text("outdated")
    expect(changed).not_to_contain_text("passed")
    expect(changed.get_by_role("button", name="Test")).to_be_visible()
    page.goto("/admin/")
    expect(page.locator(".pc-attention")).to_have_text("Needs your attention: 1 changed since its last test")


def test_test_connection_renews_a_refused_token_before_blaming_anything(admin_page, auth_server):
    page = admin_page
    connection = authorize_inverbis(auth_server, name="Inverbis revoked token")
    page.goto(f"/admin/connectors/inverbisconnection/{connection.pk}/change/")
    open_tab(page, "OAuth 2.0")

    # The provider dropped the access token: Test renews it with the refresh token and passes.
    auth_server.expire_access_tokens()
    result = click_test_connection(page)
    expect(result).to_have_class(re.compile("pc-result--passed"))
    expect(result).to_contain_text("The stored token works")
    expect(badge_in(page.locator("#pc-health-badge"), "authorized")).to_be_visible()

    # The provider also revoked the grant: Test says so, and the next action is Regenerate.
    auth_server.expire_access_tokens()
    auth_server.revoke_refresh_tokens()
    result = click_test_connection(page)
    expect(result).to_contain_text("expired or was revoked at the provider (invalid_grant): click Regenerate")
    expect(result).not_to_contain_text("Scope")
    expect(badge_in(page.locator("#pc-health-badge"), "needs_reauthorization")).to_be_visible()
    page.goto("/admin/connectors/connection/")
    expect(badge_in(row(page, "Inverbis revoked token"), "needs_reauthorization")).to_be_visible()
    expect(row(page, "Inverbis revoked token").get_by_role("link", name="Regenerate")).to_be_visible()


def test_the_bulk_test_keeps_never_authorized_apart_and_authorizes_a_password_grant(admin_page, auth_server):
    page = admin_page
    make_inverbis(auth_server, name="Inverbis never authorized")
    make_invenias(auth_server, name="Invenias never authorized")
    page.goto("/admin/connectors/connection/")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option(label="Test selected connections")
    page.get_by_role("button", name="Go").click()
    run_ready_tasks()
    page.reload()
    expect(page.locator("#pc-bulk-status")).to_contain_text("2 of 2 tested: 1 passed, 0 failed, 1 not tested.")
    expect(page.locator("#pc-bulk-failures")).to_contain_text("Not authorized yet: click Generate.")

    page.goto("/admin/connectors/connection/")
    never = row(page, "Inverbis never authorized")
    expect(badge_in(never, "not_authorized")).to_have_text("not authorized")
    expect(never).to_contain_text("never tested")
    expect(never.get_by_role("link", name="Generate")).to_be_visible()
    password = row(page, "Invenias never authorized")
    expect(badge_in(password, "authorized")).to_contain_text("authorized (expires in")
    expect(password.get_by_role("button", name="Test")).to_be_visible()
    expect(password.get_by_role("link", name="Generate")).to_have_count(0)
    page.goto("/admin/")
    expect(page.locator(".pc-attention")).to_have_count(0)


def test_a_test_that_sent_nothing_records_no_failure(admin_page, auth_server):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos without secret", client_secret="")
    page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/")
    result = click_test_connection(page)
    expect(result).to_contain_text("Not tested")
    expect(result).to_contain_text("No client secret is stored")
    expect(badge_in(page.locator("#pc-health-badge"), "ready")).to_be_visible()
    page.goto("/admin/connectors/connection/")
    quiet = row(page, "Hypatos without secret")
    expect(quiet).to_contain_text("never tested")
    expect(quiet).not_to_contain_text("failed")
    assert Connection.objects.get(pk=connection.pk).last_test_at is None
