"""Browser fixtures: Debian's Chromium driven by Playwright (sync API) against pytest-django's
live_server, with the real authorization server of tests/servers.py.

Playwright never downloads a browser here: it launches /usr/bin/chromium through
`executable_path`. A missing Chromium fails the run with the command that installs it (a skip
would let a machine without a browser pass without testing the operator's experience).
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API keeps an asyncio loop running in the test's thread, which makes Django
# refuse ORM calls there ("cannot call this from an async context"). The tests' ORM calls are
# plain synchronous code, so the guard is switched off for the test process (Django's documented
# escape hatch; the app under test runs in the live server's own thread either way).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
OPERATOR = ("operator-admin", "operator-admin-password")
# A person waits a few seconds at most; a generous bound still ends a hung step quickly.
TIMEOUT_MS = 15_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so the page fixture knows whether to take a
    # screenshot when the test body failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}). Install it with: bash tests/prerequisites.sh "
            "(or: sudo apt-get install chromium)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started only once the test database exists. Started before,
    it sees the unconfigured in-memory SQLite name and hands one shared connection to all its
    request threads, which crashes SQLite when the browser sends requests in parallel."""
    return live_server


@pytest.fixture
def app(live_server, settings):
    """The application's base URL. The callback URL must lead back to this live server, so that
    the authorization server returns the browser to it."""
    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "PUBLIC_BASE_URL": live_server.url}
    return live_server.url


@pytest.fixture
def operator(django_user_model, transactional_db):
    return django_user_model.objects.create_superuser(OPERATOR[0], "ops@example.com", OPERATOR[1])


@pytest.fixture
def context(browser, app):
    # localhost (the live server) is a secure context, so the Copy button uses the clipboard.
    context = browser.new_context(
        base_url=app,
        viewport={"width": 1200, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context, request):
    page = context.new_page()
    errors = []
    # A script error is a broken page for the person, even when the assertions still pass.
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def admin_page(page, operator):
    """A page logged in to the admin through its login form, as a person does."""
    log_in(page)
    return page


def log_in(page, username=OPERATOR[0], password=OPERATOR[1]):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Connections to partner APIs")).to_be_visible()


expect.set_options(timeout=TIMEOUT_MS)
