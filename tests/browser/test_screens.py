"""The operator's screens judged against the stock Django admin (issue 21), one test per point,
in headless Chromium: what a person would see and click."""

import json
import re

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from connectors.models import ApiKey, Connection, InveniasConnection
from connectors.store import definitions, events
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import log_in
from tests.browser.pages import add_page, field, messages, open_tab
from tests.connections import make_generic, make_hypatos, make_invenias, make_inverbis

pytestmark = pytest.mark.django_db(transaction=True)

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


def box(locator):
    found = locator.bounding_box()
    assert found, f"{locator} is not on the page"
    return found


def change_page(page, connection, query=""):
    model = type(connection.specific)._meta.model_name
    page.goto(f"/admin/connectors/{model}/{connection.pk}/change/{query}")


def with_events(connection, count):
    for number in range(count):
        events.record(connection, "changed", detail=f"Changed Scope (number {number}).")


def test_action_buttons_are_sized_and_padded_like_save(admin_page, auth_server):
    page = admin_page
    connection = make_inverbis(auth_server, name="Inverbis EU")
    change_page(page, connection)
    save = page.locator(".submit-row input[name=_save]")
    open_tab(page, "OAuth 2.0")
    for name in ("Test Connection", "Generate", "Copy"):
        button = page.get_by_role("button", name=name, exact=True)
        assert abs(box(button)["height"] - box(save)["height"]) <= 1, name
        padding = button.evaluate("b => parseFloat(getComputedStyle(b).paddingLeft)")
        assert padding == save.evaluate("b => parseFloat(getComputedStyle(b).paddingLeft)"), name


def test_the_event_log_comes_after_the_save_bar_ten_at_a_time(admin_page, auth_server):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos production")
    with_events(connection, 14)
    change_page(page, connection)
    log = page.locator("#pc-events")
    assert box(log)["y"] > box(page.locator(".submit-row")).get("y") + box(page.locator(".submit-row"))["height"]
    rows = log.locator("tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("number 13")
    log.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(4)
    expect(rows.last).to_contain_text("number 0")


def test_at_390_px_the_page_fits_and_each_event_is_a_card(admin_page, auth_server):
    page = admin_page
    page.set_viewport_size({"width": 390, "height": 844})
    connection = make_hypatos(auth_server, name="Hypatos production")
    with_events(connection, 3)
    change_page(page, connection)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    for cell in page.locator("#pc-events tbody tr").first.locator("td").all():
        found = box(cell)
        assert found["x"] >= 0 and found["x"] + found["width"] <= 390, cell.get_attribute("data-label")
    # Each card names its fields (the table's header is off-screen below 600 px).
    outcome = page.locator("#pc-events tbody tr").first.locator("td[data-label=Outcome]")
    assert outcome.evaluate("td => getComputedStyle(td, '::before').content") == '"Outcome: "'
    # The buttons keep their size on a phone.
    save = page.locator(".submit-row input[name=_save]")
    open_tab(page, "OAuth 2.0")
    test = page.get_by_role("button", name="Test Connection")
    assert abs(box(test)["height"] - box(save)["height"]) <= 1
    assert_accessible(page, "the change page at 390 px")


def test_a_new_api_key_is_shown_once_with_copy_and_survives_a_reload(admin_page, auth_server):
    page = admin_page
    make_hypatos(auth_server, name="Hypatos production")
    page.goto("/admin/connectors/apikey/add/")
    page.locator("#id_name").fill("billing-service")
    page.get_by_label("Hypatos.ai").check()
    page.get_by_role("button", name="Save", exact=True).click()
    key = page.locator("#pc-api-key")
    expect(key).to_have_text(re.compile(r"^pc_\w+_\S+$"))
    raw_key = key.inner_text()
    assert re.search(r"/apikey/\d+/created/$", page.url)  # the POST redirected
    assert key.evaluate("k => parseFloat(getComputedStyle(k).fontSize)") >= 18
    assert_accessible(page, "the new API key page")

    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied", exact=True)).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == raw_key

    page.reload()
    expect(key).to_have_text(raw_key)
    expect(page.get_by_text("already exists")).to_have_count(0)
    assert ApiKey.objects.count() == 1

    created = page.url
    page.get_by_role("button", name="I have copied the key").click()
    expect(page.locator("#id_name")).to_have_value("billing-service")  # the key's own page
    page.goto(created)
    expect(page.get_by_text("no longer available here")).to_be_visible()
    assert raw_key not in page.content()


def test_one_name_form_and_the_providers_short_names(admin_page, auth_server):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos production")
    change_page(page, connection)
    expect(page.locator("#content h2").first).to_have_text("Hypatos.ai · Hypatos production")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(messages(page)).to_contain_text("Hypatos.ai · Hypatos production")
    page.goto("/admin/connectors/connection/")
    expect(page.locator("td.field-provider_label")).to_have_text("Hypatos.ai")
    expect(page.locator("#changelist-filter").get_by_role("link", name="Hypatos.ai", exact=True)).to_be_visible()
    page.goto("/admin/connectors/apikey/add/")
    expect(page.locator("#id_connections_from option")).to_have_text("Hypatos.ai · Hypatos production")
    expect(page.get_by_label("Hypatos.ai", exact=True)).to_be_visible()


def test_field_labels_share_one_casing(admin_page):
    page = admin_page
    for model in ("genericconnection", "hypatosconnection", "inverbisconnection", "inveniasconnection"):
        add_page(page, model)
        labels = page.locator(
            "fieldset.pc-tab .form-row label:not(.vCheckboxLabel), fieldset.pc-tab .flex-container > label"
        )
        for text in labels.all_inner_texts():
            if text.startswith("Clear the stored"):
                continue  # a checkbox's sentence, not a field's name
            words = [word for word in text.rstrip(":").split() if word not in {"and", "or", "the", "of"}]
            assert all(word[0].isupper() or not word[0].isalpha() for word in words), (model, text)
    add_page(page, "genericconnection")
    expect(page.locator("label[for=id_grant]")).to_have_text("Grant Type:")
    expect(page.locator("label[for=id_client_authentication]")).to_have_text("Client Authentication:")


def test_breadcrumbs_name_every_level(admin_page, auth_server):
    page = admin_page
    make_hypatos(auth_server, name="Hypatos production")
    page.goto("/admin/connectors/connection/import/")
    crumbs = page.locator("div.breadcrumbs")
    expect(crumbs).to_contain_text("Home › Partner connections › All connections › Import connection definitions")
    crumbs.get_by_role("link", name="Partner connections").click()
    expect(page.get_by_role("heading", name="Partner connections administration")).to_be_visible()
    page.goto("/admin/connectors/apikey/add/")
    page.locator("#id_name").fill("etl")
    page.get_by_label("Hypatos.ai").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(crumbs).to_contain_text("Home › Partner connections › API keys › etl › API key created")


def test_dates_read_the_same_on_every_page(admin_page, auth_server, browser, app):
    page = admin_page
    connection = make_hypatos(auth_server, name="Hypatos production")
    with_events(connection, 1)
    change_page(page, connection)
    expect(page.locator("#pc-events td[data-label=When]").first).to_have_text(DATE_TIME)
    page.goto("/admin/connectors/apikey/add/")
    page.locator("#id_name").fill("etl")
    page.get_by_label("Hypatos.ai").check()
    page.locator("#id_expires_at_0").fill("2031-05-06")
    page.locator("#id_expires_at_1").fill("07:08:00")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto("/admin/connectors/apikey/")
    expect(page.locator("td.field-expires_at")).to_have_text("2031-05-06 07:08")
    # German: its own one format.
    page.locator("#pc-language-select").select_option("de")
    page.get_by_role("button", name="Switch language").click()
    expect(page.locator("td.field-expires_at")).to_have_text("06.05.2031 07:08")


def test_url_inputs_have_one_width(admin_page):
    page = admin_page
    add_page(page, "genericconnection")
    names = ("issuer_url", "authorization_url", "token_url", "userinfo_url", "revocation_url", "probe_url")
    widths = set()
    for name in names:
        tab = "Connection" if field(page, name).is_visible() else "OAuth 2.0"
        open_tab(page, tab)
        widths.add(round(box(field(page, name))["width"]))
    assert len(widths) == 1, widths


def test_a_typed_derived_url_is_marked_custom_and_can_follow_again(admin_page):
    page = admin_page
    add_page(page, "inverbisconnection")
    field(page, "name").fill("Inverbis EU")
    field(page, "tenant").fill("acme")
    open_tab(page, "OAuth 2.0")
    token_url = field(page, "token_url")
    expect(token_url).to_have_value(re.compile(r"/realms/acme/protocol/openid-connect/token$"))
    derived = token_url.input_value()
    expect(page.locator("#pc-custom-token_url")).to_have_count(0)
    token_url.fill("https://identity.inverbisanalytics.com/auth/realms/other/protocol/openid-connect/token")
    note = page.locator("#pc-custom-token_url")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Custom")
    expect(note).to_contain_text("no longer follows Server and Tenant")
    assert_accessible(page, "a form with a custom URL")
    note.get_by_role("button", name="Follow Server and Tenant again").click()
    expect(token_url).to_have_value(derived)
    expect(note).to_be_hidden()
    # Following again, it follows the Tenant once more.
    open_tab(page, "Connection")
    field(page, "tenant").fill("beta")
    open_tab(page, "OAuth 2.0")
    expect(token_url).to_have_value(re.compile(r"/realms/beta/protocol/openid-connect/token$"))


def test_the_callback_url_is_shown_before_the_first_save(admin_page, app):
    page = admin_page
    add_page(page, "inverbisconnection")
    open_tab(page, "OAuth 2.0")
    expect(page.locator("#pc-callback-url")).to_have_text(f"{app}/oauth/callback/number/")
    expect(page.get_by_text("given when it is first saved")).to_be_visible()
    open_tab(page, "Connection")
    field(page, "name").fill("Inverbis EU")
    field(page, "tenant").fill("acme")
    page.get_by_role("button", name="Save and continue editing").click()
    open_tab(page, "OAuth 2.0")
    pk = Connection.objects.get(name="Inverbis EU").pk
    expect(page.locator("#pc-callback-url")).to_have_text(f"{app}/oauth/callback/{pk}/")


def test_after_an_import_the_secrets_to_enter_link_to_the_connection(admin_page, auth_server, tmp_path):
    page = admin_page
    # A definitions file from another installation: its connection had a client secret and a
    # password, which a file never carries.
    source = make_invenias(auth_server, name="Invenias elsewhere")
    document = definitions.export_document([source])
    document["connections"][0]["name"] = "Invenias imported"
    upload = tmp_path / "definitions.json"
    upload.write_text(json.dumps(document))
    page.goto("/admin/connectors/connection/import/")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Show what would change").click()
    page.get_by_role("button", name="Apply").click()
    link = messages(page).get_by_role("link", name="Invenias · Invenias imported")
    expect(link).to_be_visible()
    link.click()
    imported = InveniasConnection.objects.get(name="Invenias imported")
    assert page.url.endswith(f"/inveniasconnection/{imported.pk}/change/#oauth")
    expect(field(page, "password")).to_be_visible()  # the OAuth 2.0 tab, where they are typed


def test_the_language_menu_switches_the_admin(admin_page):
    page = admin_page
    page.goto("/admin/")
    page.locator("#pc-language-select").select_option("de")
    page.get_by_role("button", name="Switch language").click()
    expect(page.get_by_role("heading", name="Verbindungen zu Partner-APIs")).to_be_visible()
    page.locator("#pc-language-select").select_option("en")
    page.get_by_role("button", name="Sprache wechseln").click()
    expect(page.get_by_role("heading", name="Connections to partner APIs")).to_be_visible()


def test_partner_connections_come_first_and_operations_only_for_superusers(admin_page, browser, app, django_user_model):
    page = admin_page
    page.goto("/admin/")
    captions = [caption.lower() for caption in page.locator("#content-main .module caption").all_inner_texts()]
    assert captions[0].startswith("partner connections"), captions
    assert captions[-1].startswith("operations"), captions
    operations = page.locator("#content-main .app-operations")
    expect(operations.get_by_role("link", name="Task results")).to_be_visible()
    expect(operations.get_by_role("link", name="Access attempts")).to_be_visible()
    assert_accessible(page, "the admin index")
    # In the sidebar of a change page too: the connections first.
    page.goto("/admin/connectors/apikey/add/")
    assert page.locator("#nav-sidebar .module caption").first.inner_text().lower().startswith("partner connections")

    # An operator who is staff but not superuser: the connections, no third-party sections.
    staff = django_user_model.objects.create_user("staff-operator", password="staff-operator-password", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["connectors", "axes"]))
    context = browser.new_context(base_url=app)
    try:
        other = context.new_page()
        log_in(other, "staff-operator", "staff-operator-password")
        expect(other.locator("#content-main").get_by_text("Operations")).to_have_count(0)
        expect(other.get_by_role("link", name="Access attempts")).to_have_count(0)
        expect(other.get_by_role("link", name="Task results")).to_have_count(0)
        answer = other.goto("/admin/axes/accessattempt/")
        assert answer.status == 403
    finally:
        context.close()


def test_all_connections_has_an_add_button_that_asks_for_the_provider(admin_page):
    page = admin_page
    page.goto("/admin/connectors/connection/")
    page.get_by_role("link", name="Add connection").click()
    choices = page.locator(".pc-provider-choices li")
    expect(choices).to_have_count(4)
    expect(choices.first).to_contain_text("Inverbis Analytics")
    assert_accessible(page, "the provider choice")
    page.locator("#content-main").get_by_role("link", name="Invenias", exact=True).click()
    expect(page.get_by_role("tablist")).to_be_visible()
    assert page.url.endswith("/admin/connectors/inveniasconnection/add/")


def test_the_generic_form_is_accessible_with_its_urls(admin_page, auth_server):
    page = admin_page
    connection = make_generic(auth_server, name="Partner sandbox")
    change_page(page, connection)
    open_tab(page, "OAuth 2.0")
    assert_accessible(page, "the generic provider's change page")
