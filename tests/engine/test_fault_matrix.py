"""The fault matrix: every grant × every fault × every entry point, against the real local
authorization server (and the tests' misbehaving one for what a real server will not do on
demand), asserting what an operator and a consumer would check: the health badge's state, the
row's next action, the API's `health`, the index banner, the alert mails (one per episode) and
the worker's retry decision (nothing permanent is retried).

The expected states are connectors/store/health.py's decision table; docs/health.md prints the
same table, and the last test here checks that the page and this matrix agree.
"""

import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from connectors.admin.forms import connection_form_class
from connectors.engine import bulk, schedule, tokens, worker
from connectors.models import BulkTest, Connection
from connectors.store import apikeys, display
from connectors.store.health import NEEDS_ATTENTION, Health, health_of
from tests.connections import (
    hypatos_form,
    invenias_form,
    inverbis_form,
    make_hypatos,
    make_invenias,
    make_inverbis,
)
from tests.engine.test_concurrency import authorize_inverbis

# Row ids in the SQLite and PostgreSQL runs alike (`make test` runs this module twice).
pytestmark = [pytest.mark.django_db, pytest.mark.database]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "health.md"

AUTHORIZATION_CODE, PASSWORD, CLIENT_CREDENTIALS = "authorization code", "password", "client credentials"
GRANTS = (AUTHORIZATION_CODE, PASSWORD, CLIENT_CREDENTIALS)
GREEN = {AUTHORIZATION_CODE: Health.AUTHORIZED, PASSWORD: Health.AUTHORIZED, CLIENT_CREDENTIALS: Health.READY}

WRONG_CLIENT = "wrong client secret"
WRONG_PASSWORD = "wrong password"
REVOKED = "revoked grant"
EXPIRED_REFRESH = "expired refresh token"
REFUSED_CONNECTION = "partner refused the connection"
TIMEOUT = "partner timeout"
SERVER_ERROR = "partner 5xx"
RATE_LIMITED = "partner 429 with Retry-After"
SCOPE_REFUSED = "scope refused"
PROBE_403 = "probe 403"
CHANGED_AFTER_PASS = "settings changed after a pass"
NEVER_AUTHORIZED = "never authorized"

# What the token's path leaves, per fault and grant (None: the fault does not exist for that
# grant: a public client has no secret, only a password grant has a password, a refresh token
# is the authorization code's, a refresh sends no scope, only Hypatos' probe answers 403).
# docs/health.md prints this table.
TOKEN_PATH = {
    WRONG_CLIENT: (Health.REFUSED, Health.REFUSED, Health.REFUSED),
    WRONG_PASSWORD: (None, Health.REFUSED, None),
    REVOKED: (Health.NEEDS_REAUTHORIZATION, None, None),
    EXPIRED_REFRESH: (Health.NEEDS_REAUTHORIZATION, None, None),
    REFUSED_CONNECTION: (Health.RENEWAL_FAILING,) * 3,
    TIMEOUT: (Health.RENEWAL_FAILING,) * 3,
    SERVER_ERROR: (Health.RENEWAL_FAILING,) * 3,
    RATE_LIMITED: (Health.RENEWAL_FAILING,) * 3,
    SCOPE_REFUSED: (None, Health.REFUSED, Health.REFUSED),
    PROBE_403: (None, None, Health.READY),
    CHANGED_AFTER_PASS: (Health.AUTHORIZED, Health.AUTHORIZED, Health.READY),
    NEVER_AUTHORIZED: (Health.NOT_AUTHORIZED, Health.AUTHORIZED, Health.READY),
}

WORKER, REFRESH_COMMAND, API_TOKEN = "worker renewal", "refresh_tokens", "API token request"
TEST_SAVED, TEST_UNSAVED, BULK = "Test Connection (saved)", "Test Connection (unsaved)", "bulk test"
ENTRY_POINTS = (WORKER, REFRESH_COMMAND, API_TOKEN, TEST_SAVED, TEST_UNSAVED, BULK)
# Entry points that also make the test request (the probe) and record the saved test's outcome.
RECORDING_TESTS = (TEST_SAVED, BULK)

# The next action each state offers (display.next_action), as the row's button says it.
NEXT_ACTION = {
    Health.NEEDS_REAUTHORIZATION: "Regenerate",
    Health.REFUSED: "Fix settings",
    Health.RENEWAL_FAILING: "Test",
    Health.TEST_FAILED: "Test again",
    Health.CHANGED: "Test",
    Health.AUTHORIZED: "Test",
    Health.READY: "Test",
    Health.NOT_AUTHORIZED: "Generate",
}
# The states that start an alert episode at once (one mail, however often the fault is met).
ALERTED = (Health.NEEDS_REAUTHORIZATION, Health.REFUSED)


def before(grant, fault):
    """The state a connection is in before the entry point meets the fault."""
    if fault == NEVER_AUTHORIZED:
        return Health.READY if grant == CLIENT_CREDENTIALS else Health.NOT_AUTHORIZED
    if fault == CHANGED_AFTER_PASS:
        return Health.CHANGED
    return GREEN[grant]


def expected(grant, fault, entry):
    """The decision table, cell by cell."""
    token_path = TOKEN_PATH[fault][GRANTS.index(grant)]
    if entry == TEST_UNSAVED and grant != AUTHORIZATION_CODE:
        # Unsaved settings get a token of their own, never stored: nothing of the saved
        # connection changes (an authorization code test uses the saved token, and renews it).
        return before(grant, fault)
    if fault == NEVER_AUTHORIZED and entry in (WORKER, REFRESH_COMMAND):
        return before(grant, fault)  # nothing planned, nothing due: the worker never authorizes
    if fault == PROBE_403 and entry in RECORDING_TESTS:
        return Health.TEST_FAILED  # the token is fine, the test request is refused
    return token_path


CELLS = [
    pytest.param(grant, fault, entry, id=f"{grant} / {fault} / {entry}")
    for fault, outcomes in TOKEN_PATH.items()
    for grant, outcome in zip(GRANTS, outcomes, strict=True)
    if outcome is not None
    for entry in ENTRY_POINTS
]


# -- the setting ----------------------------------------------------------------------------


@pytest.fixture
def matrix_settings(settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.PARTNER_CONNECTIONS = {
        **settings.PARTNER_CONNECTIONS,
        "HTTP_TIMEOUT": 1,  # a partner that does not answer costs a second, not ten
        "TEST_WORKERS": 1,  # bulk runs and refresh_tokens in the test's own transaction
        "CIRCUIT_THRESHOLD": 1000,  # the per-host circuit has its own tests
    }


@pytest.fixture
def operator(django_user_model):
    user = django_user_model.objects.create_superuser("matrix", "matrix@example.com", "pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def authorized(grant, server, **fields):
    """A connection of `grant` holding a valid token from the real server."""
    if grant == AUTHORIZATION_CODE:
        connection = authorize_inverbis(server, **fields)
    elif grant == PASSWORD:
        connection = make_invenias(server, **fields)
        tokens.get_access_token(connection)
    else:
        connection = make_hypatos(server, **fields)
        tokens.get_access_token(connection)
    connection.refresh_from_db()
    return connection


def never_authorized(grant, server):
    return {AUTHORIZATION_CODE: make_inverbis, PASSWORD: make_invenias, CLIENT_CREDENTIALS: make_hypatos}[grant](server)


def update(connection, **fields):
    """Store fields as the partner's side changed them, not as an operator's edit: URLs and other
    plain columns by a queryset update (the model's save would apply the change policy to a moved
    URL, as an operator's edit), secrets through the model's save (which encrypts them)."""
    secrets = {name: value for name, value in fields.items() if name in ("client_secret", "password", "refresh_token")}
    plain = {name: value for name, value in fields.items() if name not in secrets}
    if plain:
        type(connection).objects.filter(pk=connection.pk).update(**plain)
    for name, value in secrets.items():
        setattr(connection, name, value)
    if secrets:
        connection.save(update_fields=list(secrets))
    connection.refresh_from_db()


def make_due(connection):
    """The token expires within the renewal margin: every entry point renews it first."""
    now = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(
        token_expires_at=now + timedelta(seconds=30), next_renewal_at=now
    )
    connection.refresh_from_db()


def with_fault(grant, fault, server, faulty, operator):
    """A saved connection of `grant` whose partner now shows `fault`."""
    if fault == NEVER_AUTHORIZED:
        return never_authorized(grant, server)
    if fault == PROBE_403:
        # A client whose tokens lack projects.read: the token works, the test request is refused.
        connection = authorized(
            grant,
            server,
            client_id=server.hypatos_limited_client_id,
            client_secret=server.hypatos_limited_client_secret,
            scope="documents.read",
        )
        make_due(connection)
        return connection
    connection = authorized(grant, server)
    if fault == WRONG_CLIENT:
        if grant == AUTHORIZATION_CODE:
            update(connection, client_id="an-unknown-client")  # a public client has no secret
        else:
            update(connection, client_secret="not-the-client-secret")
    elif fault == WRONG_PASSWORD:
        update(connection, password="not the password")
    elif fault == REVOKED:
        server.revoke_refresh_tokens()
    elif fault == EXPIRED_REFRESH:
        update(connection, refresh_token="a-refresh-token-the-server-let-expire")
    elif fault == REFUSED_CONNECTION:
        update(connection, token_url=f"http://127.0.0.1:{free_port()}/token")
    elif fault == TIMEOUT:
        update(connection, token_url=faulty.url("/slow"))
    elif fault == SERVER_ERROR:
        update(connection, token_url=faulty.url("/503"))
    elif fault == RATE_LIMITED:
        update(connection, token_url=faulty.url("/429"))
    elif fault == SCOPE_REFUSED:
        update(connection, scope=f"{connection.scope} admin.write")
    elif fault == CHANGED_AFTER_PASS:
        run_entry(TEST_SAVED, connection, operator)
        # An operator's save of a field the test depends on (the form sets settings_changed_at).
        Connection.objects.filter(pk=connection.pk).update(settings_changed_at=timezone.now())
    make_due(connection)
    return connection


# -- the entry points -----------------------------------------------------------------------

FORMS = {"inverbis": inverbis_form, "invenias": invenias_form, "hypatos": hypatos_form}


def edited_form(connection, server):
    """The change form as the operator sees it, with the name edited and not saved: secrets
    blank (the stored ones are used), every other field as saved."""
    specific = Connection.objects.get(pk=connection.pk).specific
    form = connection_form_class(specific.provider_info, type(specific))(instance=specific)
    data = {}
    for name in FORMS[specific.provider](server):
        if name in form.secret_fields:
            data[name] = ""
        else:
            value = form.initial.get(name, getattr(specific, name, ""))
            data[name] = "" if value is None else value
    data["name"] = f"{specific.name} (edited)"
    return data


def run_entry(entry, connection, operator, server=None):
    """Drive one entry point once, as its user would; returns what it answered."""
    pk = connection.pk
    model = connection.specific._meta.model_name
    test_url = f"/admin/connectors/{model}/{pk}/test-connection/"
    if entry == WORKER:
        return worker.renew_due(pk)
    if entry == REFRESH_COMMAND:
        try:
            call_command("refresh_tokens", stdout=open("/dev/null", "w"))  # noqa: SIM115
        except CommandError as error:
            return error.returncode
        return 0
    if entry == API_TOKEN:
        _api_key, raw = apikeys.create(
            f"consumer-{pk}-{timezone.now().timestamp()}", connections=[pk], may_obtain_tokens=True
        )
        return Client().post(
            f"/api/v1/connections/{pk}/token", {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
    if entry == TEST_SAVED:
        return operator.post(test_url, HTTP_ACCEPT="application/json").json()
    if entry == TEST_UNSAVED:
        return operator.post(test_url, edited_form(connection, server), HTTP_ACCEPT="application/json").json()
    if entry == BULK:
        job = BulkTest.objects.create(created_by=operator.user, connection_ids=[pk])
        return bulk.run(job.pk)
    raise AssertionError(entry)


# -- what the operator and the consumer see -------------------------------------------------


def api_health(connection):
    _api_key, raw = apikeys.create(f"monitor-{connection.pk}-{timezone.now().timestamp()}", connections=[connection.pk])
    listing = Client().get("/api/v1/connections", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    [row] = [row for row in listing["items"] if row["id"] == connection.pk]
    return row["health"]["code"]


def banner_links(operator):
    page = operator.get("/admin/").content.decode()
    return set(re.findall(r'href="/admin/connectors/connection/\?health=([a-z_]+)"', page))


def assert_shows(state, connection, operator):
    fresh = Connection.objects.get(pk=connection.pk).specific
    assert health_of(fresh).code == state
    assert display.next_action(fresh)[1] == NEXT_ACTION[state]
    assert api_health(fresh) == state.value
    assert banner_links(operator) == ({state.value} if state in NEEDS_ATTENTION else set())
    badge = display.status_badge(fresh)
    assert f'data-health="{state.value}"' in badge


@pytest.mark.parametrize("grant,fault,entry", CELLS)
def test_the_fault_lands_in_the_same_state_everywhere(
    grant, fault, entry, matrix_settings, operator, auth_server, fault_server
):
    connection = with_fault(grant, fault, auth_server, fault_server, operator)
    assert_shows(before(grant, fault), connection, operator)
    mail.outbox.clear()
    state = expected(grant, fault, entry)

    run_entry(entry, connection, operator, auth_server)
    assert_shows(state, connection, operator)

    # Met again (a consumer asks again, the worker's next sweep, another test): the same state,
    # and still one mail for the episode.
    asked = auth_server.stats()["total"]
    run_entry(entry, connection, operator, auth_server)
    assert_shows(state, connection, operator)
    alerts = [m.subject for m in mail.outbox if "partner connection" in m.subject.lower()]  # not Django's error mails
    assert len(alerts) == (1 if state in ALERTED else 0), alerts

    fresh = Connection.objects.get(pk=connection.pk).specific
    later = timezone.now() + timedelta(days=2)
    if state in ALERTED:
        # Nothing permanent is retried: not by the worker, however long it waits, and not for
        # a consumer or the refresh command either (only a person's Test asks again).
        assert fresh.pk not in schedule.due_connection_ids(later)
        assert not schedule.is_due(fresh, later)
        if entry in (WORKER, API_TOKEN, REFRESH_COMMAND):
            assert auth_server.stats()["total"] == asked
    if state == Health.RENEWAL_FAILING:
        # A passing fault is retried with backoff: not before its next try, then by the worker.
        assert fresh.next_renewal_at > timezone.now()
        assert fresh.pk not in schedule.due_connection_ids()
        assert fresh.pk in schedule.due_connection_ids(fresh.next_renewal_at)
        assert display.status_text(fresh)[0].startswith("renewal failing (")
    if state == Health.REFUSED:
        # The badge names the fields to fix, in the overview (a base row) as on the change page.
        fields = {WRONG_PASSWORD: "Username, Password", SCOPE_REFUSED: "Scope"}.get(fault, "Client ID")
        for shown in (fresh, Connection.objects.get(pk=fresh.pk)):
            assert f"(check {fields}" in display.status_text(shown)[0]


# -- the page and the matrix agree ----------------------------------------------------------


def docs_table():
    """{fault: (state per grant)} from the fault table of docs/health.md."""
    text = DOCS.read_text()
    section = text.split("<!-- fault matrix -->", 1)[1].split("<!-- end of fault matrix -->", 1)[0]
    rows = {}
    for line in section.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = tuple(cells[1:])
    return rows


def test_the_docs_print_the_matrix():
    def words(state):
        return "—" if state is None else str(state.label)

    assert docs_table() == {fault: tuple(words(state) for state in outcomes) for fault, outcomes in TOKEN_PATH.items()}
