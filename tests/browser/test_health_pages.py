"""The health the operator sees and the input they type (issue 10), in headless Chromium."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from connectors.models import Connection, InveniasConnection, InverbisConnection, Status
from connectors.store import health
from connectors.store.health import Health
from tests.browser.accessibility import assert_accessible
from tests.browser.pages import add_page, click_test_connection, field, messages, open_tab
from tests.connections import make_hypatos, make_invenias, make_inverbis

pytestmark = pytest.mark.django_db(transaction=True)


def page_does_not_scroll_sideways(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def set_facts(connection, **facts):
    Connection.objects.filter(pk=connection.pk).update(**facts)


def one_connection_per_health(auth_server):
    """{health: connection} for every health the app shows today."""
    now = timezone.now()
    made = {
        Health.NOT_AUTHORIZED: make_inverbis(auth_server, name="Fresh Inverbis"),
        Health.READY: make_hypatos(auth_server, name="Hypatos on demand"),
        Health.AUTHORIZED: make_inverbis(auth_server, name="Inverbis authorized"),
        Health.EXPIRED: make_inverbis(auth_server, name="Inverbis expired"),
        Health.NEEDS_REAUTHORIZATION: make_inverbis(auth_server, name="Inverbis dead"),
        Health.TEST_FAILED: make_invenias(auth_server, name="Invenias failing"),
    }
    token = {"access_token": "opaque", "status": Status.AUTHORIZED, "token_obtained_at": now - timedelta(hours=1)}
    set_facts(made[Health.AUTHORIZED], **token, token_expires_at=now + timedelta(hours=3, minutes=5))
    set_facts(made[Health.EXPIRED], **token, token_expires_at=now - timedelta(minutes=5))
    set_facts(
        made[Health.NEEDS_REAUTHORIZATION],
        **{**token, "status": Status.NEEDS_REAUTHORIZATION},
        token_expires_at=now + timedelta(minutes=54),
        status_reason="The provider no longer accepts the refresh token.",
        last_test_at=now - timedelta(minutes=30),
        last_test_passed=True,
        last_test_message="Passed (40 ms, HTTP 200): the stored token works.",
    )
    set_facts(
        made[Health.TEST_FAILED],
        last_test_at=now - timedelta(minutes=2),
        last_test_passed=False,
        last_test_message="Failed at the token step (30 ms, HTTP 400): wrong password.",
    )
    return made


def test_every_health_shows_the_same_word_and_colour_in_overview_filter_and_change_page(admin_page, auth_server):
    page = admin_page
    made = one_connection_per_health(auth_server)
    for code, connection in made.items():
        label, tone = str(code.label), health.TONES[code]
        page.goto("/admin/connectors/connection/")
        row = page.get_by_role("row", name=re.compile(re.escape(connection.name)))
        badge = row.locator(f'.pc-badge[data-health="{code.value}"]')
        expect(badge).to_have_text(re.compile(rf"^{re.escape(label)}"))
        expect(badge).to_have_class(re.compile(f"pc-badge--{tone}"))
        # The filter of that health lists exactly this connection.
        page.locator("#changelist-filter").get_by_role("link", name=label, exact=True).click()
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        expect(page.locator("#result_list tbody tr")).to_contain_text(connection.name)
        # The change page shows the same badge.
        specific = connection.specific
        page.goto(f"/admin/connectors/{specific._meta.model_name}/{connection.pk}/change/#oauth")
        change_badge = page.locator(f'#pc-health-badge .pc-badge[data-health="{code.value}"]')
        expect(change_badge).to_have_text(re.compile(rf"^{re.escape(label)}"))
        expect(change_badge).to_have_class(re.compile(f"pc-badge--{tone}"))


def test_expired_and_dead_tokens_never_read_as_usable(admin_page, auth_server):
    page = admin_page
    made = one_connection_per_health(auth_server)
    page.goto("/admin/connectors/connection/")
    expired = page.get_by_role("row", name=re.compile("Inverbis expired"))
    expect(expired.locator(".pc-badge").first).to_have_text("expired")
    expect(expired).not_to_contain_text("authorized")
    dead = page.get_by_role("row", name=re.compile("Inverbis dead"))
    expect(dead.locator(".pc-badge").first).to_have_text("needs reauthorization")
    expect(dead).not_to_contain_text("in 54")
    expect(dead).not_to_contain_text("passed")
    expect(dead).to_contain_text("not usable")
    expect(dead.get_by_role("link", name="Regenerate")).to_be_visible()
    # The row's Regenerate opens the OAuth 2.0 tab, where the button is.
    dead.get_by_role("link", name="Regenerate").click()
    expect(page.get_by_role("tab", name="OAuth 2.0")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("button", name="Regenerate")).to_be_visible()
    expect(page.locator(".field-token_state")).not_to_contain_text("in 54")
    assert made


def test_the_index_banner_names_what_needs_attention_and_links_to_it(admin_page, auth_server):
    page = admin_page
    now = timezone.now()
    for name in ("Dead one", "Dead two"):
        connection = make_inverbis(auth_server, name=name)
        set_facts(connection, access_token="x", status=Status.NEEDS_REAUTHORIZATION, token_expires_at=now)
    expired = make_inverbis(auth_server, name="Expired one")
    set_facts(expired, access_token="x", status=Status.AUTHORIZED, token_expires_at=now - timedelta(minutes=1))
    make_hypatos(auth_server, name="Fine")
    page.goto("/admin/")
    banner = page.locator(".pc-attention")
    expect(banner).to_have_text("Needs your attention: 2 connections need reauthorization, 1 token expired")
    assert_accessible(page, "the admin index with the attention banner")
    banner.get_by_role("link", name="2 connections need reauthorization").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("needs reauthorization")
    # Nothing to say when all is well.
    Connection.objects.exclude(name="Fine").delete()
    page.goto("/admin/")
    expect(page.locator(".pc-attention")).to_have_count(0)


def test_the_badge_follows_test_generate_test(admin_page, auth_server):
    page = admin_page
    connection = make_inverbis(auth_server, name="Inverbis journey")
    page.goto(f"/admin/connectors/inverbisconnection/{connection.pk}/change/")
    open_tab(page, "OAuth 2.0")
    badge = page.locator("#pc-health-badge .pc-badge")
    expect(badge).to_have_text("not authorized")
    result = click_test_connection(page)
    expect(result).to_contain_text("Not authorized yet")
    # Nothing was sent, so nothing failed: the badge stays (docs/health.md).
    expect(badge).to_have_text("not authorized")
    page.get_by_role("button", name="Generate").click()
    page.get_by_label("Username").fill(auth_server.username)
    page.get_by_label("Password").fill(auth_server.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    expect(messages(page)).to_contain_text("Authorized: the token expires in")
    # Back on the OAuth 2.0 tab, with the account and scopes of the new token.
    expect(page.get_by_role("tab", name="OAuth 2.0")).to_have_attribute("aria-selected", "true")
    expect(badge).to_have_text(re.compile(r"^authorized \(expires in"))
    expect(page.locator(".field-token_state")).to_contain_text(f"Account: {auth_server.username}")
    expect(page.locator(".field-token_state")).to_contain_text("Granted scopes: openid offline_access")
    expect(click_test_connection(page)).to_contain_text("Passed")
    expect(badge).to_have_text(re.compile(r"^authorized \(expires in"))
    page.goto("/admin/connectors/connection/")
    row = page.get_by_role("row", name=re.compile("Inverbis journey"))
    expect(row).to_contain_text(f"for {auth_server.username}")
    expect(row).to_contain_text("passed")


def test_a_failed_test_turns_the_badge_and_reads_with_spaces(admin_page, auth_server):
    page = admin_page
    connection = make_invenias(auth_server, name="Invenias soon wrong", password="wrong horse")
    page.goto(f"/admin/connectors/inveniasconnection/{connection.pk}/change/")
    badge = page.locator("#pc-health-badge .pc-badge")
    open_tab(page, "OAuth 2.0")
    expect(badge).to_have_text("not authorized")
    result = click_test_connection(page)
    # Swapped in place by the test's answer: a refused password is a refusal of the settings.
    expect(badge).to_have_text("settings refused (check Username, Password)")
    text = result.inner_text()
    assert re.match(r"^Failed at the token step \(\d+ ms · HTTP 400\)\s+The provider refused the username", text), text
    assert text.count("token step") == 1  # the step and time once, not repeated in the sentence


@pytest.mark.parametrize("model", ["inverbisconnection", "inveniasconnection", "hypatosconnection"])
def test_enter_in_a_field_saves_the_form(admin_page, auth_server, model):
    page = admin_page
    add_page(page, model)
    field(page, "name").fill("Saved by Enter")
    if model == "inverbisconnection":
        field(page, "tenant").fill("acme")
        field(page, "tenant").press("Enter")
    elif model == "inveniasconnection":
        field(page, "subdomain").fill("company")
        field(page, "subdomain").press("Enter")
    else:
        field(page, "name").press("Enter")
    expect(messages(page)).to_contain_text("was added successfully")
    assert page.url.startswith(auth_server.base_url) is False
    stored = Connection.objects.get(name="Saved by Enter")
    assert not stored.access_token  # no token requested, no provider visited
    assert stored.events.filter(action__startswith="authoriz").count() == 0


def test_enter_on_a_saved_invenias_form_keeps_its_token(admin_page, auth_server):
    page = admin_page
    connection = make_invenias(auth_server, name="Invenias with token")
    connection.get_access_token()
    before = InveniasConnection.objects.get(pk=connection.pk).access_token
    page.goto(f"/admin/connectors/inveniasconnection/{connection.pk}/change/")
    open_tab(page, "OAuth 2.0")
    field(page, "scope").fill("openid profile api")
    field(page, "scope").press("Enter")
    expect(messages(page)).to_contain_text("was changed successfully")
    after = InveniasConnection.objects.get(pk=connection.pk)
    assert after.access_token == before and after.scope == "openid profile api"


def test_a_secret_typed_into_a_form_with_an_error_is_reported_not_silently_lost(admin_page):
    page = admin_page
    add_page(page, "inveniasconnection")
    field(page, "name").fill("Invenias typo")
    field(page, "subdomain").fill("not a label")
    open_tab(page, "OAuth 2.0")
    field(page, "client_secret").fill("typed-secret-1")
    field(page, "password").fill("typed-password-1")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".field-subdomain .errorlist")).to_be_visible()
    open_tab(page, "OAuth 2.0 (has errors)")
    for name, words in (("client_secret", "client secret"), ("password", "password")):
        error = page.locator(f".field-{name} .errorlist")
        expect(error).to_have_text(
            f"The {words} you typed was not saved (the form has errors): type it again before saving."
        )
        expect(field(page, name)).to_have_value("")
    assert "typed-secret-1" not in page.content()
    assert not Connection.objects.exists()
    assert_accessible(page, "a form reporting unsaved secrets")


def test_clear_and_new_secret_at_once_is_refused(admin_page, auth_server):
    page = admin_page
    connection = make_invenias(auth_server, name="Invenias clear")
    page.goto(f"/admin/connectors/inveniasconnection/{connection.pk}/change/")
    open_tab(page, "OAuth 2.0")
    field(page, "client_secret").fill("another-secret")
    page.get_by_label("Clear the stored client secret").check()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".field-client_secret .errorlist")).to_contain_text(
        "Either type a new client secret or tick “Clear”, not both."
    )
    assert InveniasConnection.objects.get(pk=connection.pk).client_secret == auth_server.invenias_client_secret


def test_generate_with_a_wrong_tenant_stays_in_the_app(admin_page, auth_server, app):
    page = admin_page
    connection = make_inverbis(
        auth_server,
        name="Inverbis wrong tenant",
        tenant="acme-typo",
        authorization_url=auth_server.inverbis_auth_url.replace("/acme/", "/acme-typo/"),
        token_url=auth_server.inverbis_token_url.replace("/acme/", "/acme-typo/"),
    )
    page.goto(f"/admin/connectors/inverbisconnection/{connection.pk}/change/")
    open_tab(page, "OAuth 2.0")
    page.get_by_role("button", name="Generate").click()
    expect(messages(page)).to_contain_text("has no realm at this address (HTTP 404): check the Tenant field")
    assert page.url.startswith(app)
    assert InverbisConnection.objects.get(pk=connection.pk).events.filter(action="authorize started").count() == 0


def test_a_test_after_the_session_expired_says_so(admin_page, auth_server, context):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos session")
    page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/")
    context.clear_cookies(name="sessionid")  # the login ended; the page and its CSRF cookie stay
    result = click_test_connection(page)
    expect(result).to_contain_text("Your session has expired: log in again in a new tab")
    expect(result.get_by_role("link", name="Log in")).to_have_attribute("href", "/admin/login/")


def test_a_page_on_another_host_warns_about_the_callback(admin_page, auth_server, settings):
    page = admin_page
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "PUBLIC_BASE_URL": "https://connections.example.com",
    }
    connection = make_inverbis(auth_server, name="Inverbis elsewhere")
    page.goto(f"/admin/connectors/inverbisconnection/{connection.pk}/change/")
    note = page.locator(".pc-note--warning")
    expect(note).to_contain_text("the callback URL is on connections.example.com")
    assert_accessible(page, "a change page with the callback warning")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_overview_fits_the_window(admin_page, auth_server, width):
    page = admin_page
    made = one_connection_per_health(auth_server)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/admin/connectors/connection/")
    expect(page.locator("#result_list tbody tr")).to_have_count(len(made))
    assert page_does_not_scroll_sideways(page)
    # Nor does the table scroll inside its box (a clipped column is as hidden as an off-page one).
    assert page.locator("#changelist .results").evaluate("box => box.scrollWidth <= box.clientWidth")
    # Each row shows its name, health and next action inside the window.
    for connection in made.values():
        row = page.get_by_role("row", name=re.compile(re.escape(connection.name)))
        for part in (
            row.get_by_role("link", name=connection.name),
            row.locator(".pc-badge").first,
            row.locator(".pc-row-action"),
        ):
            box = part.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (connection.name, box)
    assert_accessible(page, f"the overview at {width} px")


def test_the_event_log_never_widens_the_page(admin_page, auth_server):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos events")
    from connectors.store import events

    events.record(connection, "tested", detail="x" * 400)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/")
    expect(page.locator(".pc-events table")).to_be_visible()
    assert page_does_not_scroll_sideways(page)


def test_url_fields_show_their_whole_value(admin_page):
    page = admin_page
    add_page(page, "inverbisconnection")
    field(page, "server").fill("eu")
    field(page, "tenant").press_sequentially("acme")
    open_tab(page, "OAuth 2.0")
    for name in ("authorization_url", "token_url"):
        url = field(page, name)
        expect(url).to_have_value(re.compile(r"openid-connect/(auth|token)$"))
        assert url.evaluate("input => input.scrollWidth <= input.clientWidth"), name


def test_tested_then_saved_unchanged_counts_as_the_last_test(admin_page, auth_server):
    page = admin_page
    add_page(page, "hypatosconnection")
    field(page, "name").fill("Hypatos tested first")
    field(page, "endpoint_url").fill(auth_server.hypatos_endpoint)
    open_tab(page, "OAuth 2.0")
    expect(field(page, "token_url")).to_have_value(auth_server.hypatos_token_url)  # followed the endpoint
    field(page, "client_id").fill(auth_server.hypatos_client_id)
    field(page, "client_secret").fill(auth_server.hypatos_client_secret)
    field(page, "scope").fill("projects.read")
    expect(click_test_connection(page)).to_contain_text("Passed")
    page.get_by_role("button", name="Save", exact=True).click()
    row = page.get_by_role("row", name=re.compile("Hypatos tested first"))
    expect(row).to_contain_text("passed")
    expect(row).not_to_contain_text("never tested")


def test_a_passing_test_of_the_saved_settings_clears_the_failed_badge(admin_page, auth_server):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos recovered")
    set_facts(connection, last_test_at=timezone.now(), last_test_passed=False, last_test_message="Failed earlier.")
    page.goto(f"/admin/connectors/hypatosconnection/{connection.pk}/change/#oauth")
    badge = page.locator("#pc-health-badge .pc-badge")
    expect(badge).to_have_text("last test failed")
    expect(badge).to_have_class(re.compile("pc-badge--danger"))
    expect(click_test_connection(page)).to_contain_text("Passed")
    expect(badge).to_have_text("ready (token on demand)")
    expect(badge).to_have_class(re.compile("pc-badge--ok"))


def test_a_rows_test_button_tests_that_connection_and_answers_on_the_list(admin_page, auth_server):
    page = admin_page
    make_hypatos(auth_server, name="Hypatos row")
    make_hypatos(auth_server, name="Hypatos wrong", client_secret="not-the-secret")
    page.goto("/admin/connectors/connection/?health=ready")
    row = page.get_by_role("row", name=re.compile("Hypatos row"))
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    row.get_by_role("button", name="Test Hypatos row").click()
    expect(messages(page)).to_contain_text("Hypatos row: Passed")
    assert page.url.endswith("/admin/connectors/connection/?health=ready")  # the list it came from
    expect(page.get_by_role("row", name=re.compile("Hypatos row"))).to_contain_text("passed")
    page.goto("/admin/connectors/connection/")
    page.get_by_role("button", name="Test Hypatos wrong").click()
    failure = messages(page).get_by_role("link", name="Hypatos wrong")
    expect(failure).to_be_visible()
    expect(messages(page)).to_contain_text("invalid_client")
    wrong = page.get_by_role("row", name=re.compile("Hypatos wrong"))
    expect(wrong.locator(".pc-badge").first).to_have_text("settings refused (check Client ID, Client Secret)")
    expect(wrong.get_by_role("link", name="Fix settings")).to_be_visible()
