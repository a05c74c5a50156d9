"""The one health model: a table of cases with the state each must show, and, on every
combination of facts, the same answer from health_of() (badges) and from the database twin
(the filter and the index banner)."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.models import Connection, HypatosConnection, InveniasConnection, InverbisConnection, Status
from connectors.store import display, health
from connectors.store.health import Health, health_of

pytestmark = pytest.mark.django_db

NOW = timezone.now()
HOUR = timedelta(hours=1)
MODELS = {
    "inverbis": (InverbisConnection, {"tenant": "acme"}),
    "invenias": (InveniasConnection, {"subdomain": "company"}),
    "hypatos": (HypatosConnection, {}),
}
TOKENS = {
    "none": {},
    "valid": {"access_token": "t", "token_obtained_at": NOW - HOUR, "token_expires_at": NOW + HOUR},
    "expired": {"access_token": "t", "token_obtained_at": NOW - 3 * HOUR, "token_expires_at": NOW - HOUR},
}
TESTS = {
    "never": {},
    "passed, after the token": {"last_test_at": NOW - HOUR / 2, "last_test_passed": True},
    "failed, after the token": {"last_test_at": NOW - HOUR / 2, "last_test_passed": False},
    "failed, before the token": {"last_test_at": NOW - 4 * HOUR, "last_test_passed": False},
}
SETTINGS = {
    "never changed": {},
    "changed before the test": {"settings_changed_at": NOW - 5 * HOUR},
    "changed after the test": {"settings_changed_at": NOW - HOUR / 4},
}
STATUSES = {"not": Status.NOT_AUTHORIZED, "ok": Status.AUTHORIZED, "dead": Status.NEEDS_REAUTHORIZATION}
REFUSALS = {
    "not refused": {},
    # After every settings change of SETTINGS: in force.
    "refused": {"refused_at": NOW - HOUR / 8, "refusal": {"kind": "invalid_client", "fields": ["client_secret"]}},
    # Before "changed after the test" (lifted by it), after "changed before the test".
    "refused, then changed": {"refused_at": NOW - HOUR / 3, "refusal": {"kind": "invalid_client", "fields": []}},
}


def make(provider, token="none", test="never", settings="never changed", status=None, refusal="not refused", **extra):
    model, fields = MODELS[provider]
    status = status or ("ok" if token != "none" else "not")
    count = Connection.objects.count()
    return model.objects.create(
        name=f"c{count}",
        **fields,
        **TOKENS[token],
        **TESTS[test],
        **SETTINGS[settings],
        status=STATUSES[status],
        **REFUSALS[refusal],
        **extra,
    )


CASES = [
    # (provider, token, last test, settings, status) -> health
    (("inverbis", "none", "never", "never changed", "not"), Health.NOT_AUTHORIZED),
    (("inverbis", "valid", "never", "never changed", "ok"), Health.AUTHORIZED),
    (("inverbis", "expired", "never", "never changed", "ok"), Health.EXPIRED),  # never "authorized"
    (("inverbis", "valid", "passed, after the token", "never changed", "dead"), Health.NEEDS_REAUTHORIZATION),
    (("inverbis", "expired", "failed, after the token", "never changed", "dead"), Health.NEEDS_REAUTHORIZATION),
    (("inverbis", "expired", "failed, after the token", "never changed", "ok"), Health.EXPIRED),
    (("inverbis", "valid", "failed, after the token", "never changed", "ok"), Health.TEST_FAILED),
    # A failed test before a new authorization (Test → Generate) is moot.
    (("inverbis", "valid", "failed, before the token", "never changed", "ok"), Health.AUTHORIZED),
    # ... and so is one before a settings change, which nothing has proven since (never green).
    (("inverbis", "valid", "failed, after the token", "changed after the test", "ok"), Health.CHANGED),
    (("inverbis", "valid", "passed, after the token", "changed after the test", "ok"), Health.CHANGED),
    (("inverbis", "valid", "passed, after the token", "changed before the test", "ok"), Health.AUTHORIZED),
    # A token obtained after the change proves the new settings as well as a passing test.
    (("inverbis", "valid", "never", "changed before the test", "ok"), Health.AUTHORIZED),
    # Nothing to prove before the first authorization: Generate comes first.
    (("inverbis", "none", "never", "changed after the test", "not"), Health.NOT_AUTHORIZED),
    (("inverbis", "valid", "failed, after the token", "changed before the test", "ok"), Health.TEST_FAILED),
    (("inverbis", "none", "failed, after the token", "never changed", "not"), Health.TEST_FAILED),
    (("invenias", "none", "never", "never changed", "not"), Health.NOT_AUTHORIZED),
    (("invenias", "valid", "passed, after the token", "never changed", "ok"), Health.AUTHORIZED),
    (("invenias", "expired", "never", "never changed", "ok"), Health.EXPIRED),
    (("invenias", "valid", "never", "never changed", "dead"), Health.NEEDS_REAUTHORIZATION),
    # Client credentials: tokens come on demand, so none or an expired one is no problem.
    (("hypatos", "none", "never", "never changed", "not"), Health.READY),
    (("hypatos", "expired", "never", "never changed", "ok"), Health.READY),
    (("hypatos", "valid", "never", "never changed", "ok"), Health.READY),
    (("hypatos", "none", "failed, after the token", "never changed", "not"), Health.TEST_FAILED),
    (("hypatos", "none", "failed, after the token", "changed after the test", "not"), Health.CHANGED),
    (("hypatos", "none", "passed, after the token", "changed before the test", "not"), Health.READY),
]

# (provider, token, last test, settings, status, refusal) -> health: a refusal of the saved
# settings is red above everything but a dead authorization, until the settings change.
REFUSAL_CASES = [
    (("hypatos", "none", "never", "never changed", "not", "refused"), Health.REFUSED),
    (("hypatos", "valid", "failed, after the token", "changed before the test", "ok", "refused"), Health.REFUSED),
    (("invenias", "valid", "passed, after the token", "never changed", "ok", "refused"), Health.REFUSED),
    (("inverbis", "valid", "never", "never changed", "dead", "refused"), Health.NEEDS_REAUTHORIZATION),
    (("hypatos", "none", "never", "changed after the test", "not", "refused, then changed"), Health.CHANGED),
    (("invenias", "valid", "never", "changed after the test", "ok", "refused, then changed"), Health.CHANGED),
]


@pytest.mark.parametrize("facts,expected", REFUSAL_CASES, ids=[" / ".join(facts) for facts, _ in REFUSAL_CASES])
def test_a_refusal_is_red_until_the_settings_change(facts, expected):
    connection = make(*facts)
    assert health_of(connection, NOW).code == expected
    assert health.filter_by_health(Connection.objects.all(), expected.value, NOW).get().pk == connection.pk


@pytest.mark.parametrize("facts,expected", CASES, ids=[" / ".join(facts) for facts, _ in CASES])
def test_each_case_has_its_health_in_python_and_in_the_database(facts, expected):
    provider, token, test, settings, status = facts
    connection = make(provider, token, test, settings, status)
    assert health_of(connection, NOW).code == expected
    assert health.filter_by_health(Connection.objects.all(), expected.value, NOW).get().pk == connection.pk
    text, tone = display.status_text(connection, NOW)
    assert text.startswith(str(expected.label)) and tone == health.TONES[expected]


@pytest.mark.database  # the database twin must agree on PostgreSQL too
def test_every_combination_agrees_between_badge_and_filter():
    combinations = list(itertools.product(MODELS, TOKENS, TESTS, SETTINGS, STATUSES, REFUSALS))
    made = {}
    for provider, token, test, settings, status, refusal in combinations:
        if status != "not" and token == "none":
            continue  # an authorized or dead status without a token is not a state the app writes
        connection = make(provider, token, test, settings, status, refusal)
        made[connection.pk] = health_of(connection, NOW).code.value
    in_database = dict(health.with_health(Connection.objects.all(), NOW).values_list("pk", "health"))
    assert in_database == made
    assert set(made.values()) >= set(Health.values) - {Health.RENEWAL_FAILING}
    assert health.counts(Connection.objects.all(), NOW) == {
        code: list(made.values()).count(code) for code in set(made.values())
    }
    # The banner's counts read only the candidate rows, and miss none of them.
    Connection.objects.filter(pk__in=list(made)[::7]).update(renewal_failing_since=NOW - HOUR)
    everything = health.counts(Connection.objects.all(), NOW)
    assert health.attention_counts(Connection.objects.all(), NOW) == {
        code: everything[code] for code in health.NEEDS_ATTENTION if everything.get(code)
    }
    assert set(health.attention_counts(Connection.objects.all(), NOW)) == set(health.NEEDS_ATTENTION)


def test_a_failing_renewal_comes_before_expiry_and_tests():
    connection = make("inverbis", "expired", "failed, after the token")
    connection.renewal_failing_since = NOW - HOUR  # the renewal engine's fact, read when present
    assert health_of(connection, NOW).code == Health.RENEWAL_FAILING
    connection.status = Status.NEEDS_REAUTHORIZATION
    assert health_of(connection, NOW).code == Health.NEEDS_REAUTHORIZATION


def test_needs_reauthorization_reads_as_unusable():
    connection = make("inverbis", "valid", "passed, after the token", status="dead")
    assert display.expiry_in_words(connection, NOW) == "not usable"
    cell = display.last_test_cell(connection, NOW)
    assert "outdated" in cell and ">passed<" not in cell
    assert display.next_action(connection, NOW)[1] == "Regenerate"


def test_the_state_object_api_reads_code_label_and_tone():
    state = health_of(make("hypatos"), NOW)
    assert (state.code, str(state.label), state.tone) == (Health.READY, "ready", "ok")
    assert isinstance(state.code, Health)


def test_a_failing_renewal_says_how_often_and_when_next_where_known():
    connection = make("inverbis", "valid")
    connection.renewal_failing_since = NOW - HOUR
    assert display.status_text(connection, NOW) == ("renewal failing", "warning")
    connection.renewal_attempts = 3
    connection.next_renewal_at = NOW + timedelta(minutes=4)
    assert display.status_text(connection, NOW) == ("renewal failing (3 attempts, next try in 4\xa0minutes)", "warning")
