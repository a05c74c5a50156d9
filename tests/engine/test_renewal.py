"""Renewals by the worker after failures: backoff steps with jitter and Retry-After, nothing
earlier (the sweep and callers included), recovery, one mail per episode, the per-host circuit,
and a claim left by a killed process. The clock is moved (time-machine), never slept on; the
partner is the tests' misbehaving server (tests/servers.py) or the real authorization server."""

from datetime import timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core import mail
from django.db import connection as db_connection
from django.utils import timezone

from connectors.core import failures
from connectors.engine import backoff, claims, schedule, tokens, worker
from connectors.models import Connection, PartnerHost, Status
from tests.connections import make_hypatos

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) + timedelta(days=1)


@pytest.fixture
def app_settings(settings):
    def change(**values):
        settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, **values}

    settings.ADMINS = [("Ops", "ops@example.com")]
    change(CIRCUIT_THRESHOLD=1000)  # the circuit has its own test
    return change


def due_connection(auth_server, token_url, name="Due", expires_in=timedelta(minutes=1)):
    """An authorized client-credentials connection whose renewal is due now (at START)."""
    connection = make_hypatos(auth_server, name=name, token_url=token_url)
    Connection.objects.filter(pk=connection.pk).update(
        access_token="still-valid-token",
        status=Status.AUTHORIZED,
        token_obtained_at=START - timedelta(hours=1),
        token_expires_at=START + expires_in,
        next_renewal_at=START,
    )
    return Connection.objects.get(pk=connection.pk)


def test_backoff_doubles_from_a_minute_to_an_hour_and_nothing_tries_earlier(app_settings, auth_server, fault_server):
    fault_server.reset()
    connection = due_connection(auth_server, fault_server.url("/503"), expires_in=timedelta(hours=6))
    waits = []
    with time_machine.travel(START, tick=False) as clock:
        for attempt in range(1, 9):
            assert worker.renew_due(connection.pk) == worker.FAILED
            connection.refresh_from_db()
            assert connection.renewal_attempts == attempt
            assert connection.renewal_failing_since == START
            wait = (connection.next_renewal_at - timezone.now()).total_seconds()
            waits.append(wait)
            # Before the next step: neither the worker, nor the sweep, nor a caller tries.
            clock.move_to(connection.next_renewal_at - timedelta(seconds=1))
            assert worker.renew_due(connection.pk) == worker.NOT_DUE
            assert connection.pk not in schedule.due_connection_ids()
            assert tokens.get_access_token(Connection.objects.get(pk=connection.pk)) == "still-valid-token"
            assert fault_server.request_count == attempt
            clock.move_to(connection.next_renewal_at)
    steps = [60, 120, 240, 480, 960, 1920, 3600, 3600]
    for wait, step in zip(waits, steps, strict=True):
        assert step <= wait <= step * 1.25, (waits, steps)
    assert len(set(waits)) == len(waits)  # jittered, not in lockstep


def test_backoff_failure_for_a_caller_once_the_token_has_expired(app_settings, auth_server, fault_server):
    fault_server.reset()
    connection = due_connection(auth_server, fault_server.url("/500"), expires_in=timedelta(seconds=30))
    with time_machine.travel(START, tick=False) as clock:
        worker.renew_due(connection.pk)
        clock.shift(timedelta(seconds=45))  # the token expired, the next try is not due yet
        with pytest.raises(failures.OAuthFailure) as raised:
            tokens.get_access_token(Connection.objects.get(pk=connection.pk))
    assert raised.value.kind == "renewal_backoff"
    assert "failed 1 time since" in raised.value.message and "next try is at" in raised.value.message
    assert fault_server.request_count == 1


def test_test_connection_tries_at_once_during_backoff(app_settings, auth_server, fault_server):
    from connectors.engine import diagnostics
    from tests.engine.test_concurrency import authorize_inverbis

    connection = authorize_inverbis(auth_server)
    good_url = connection.token_url
    Connection.objects.filter(pk=connection.pk).update(
        token_url=fault_server.url("/503"),
        token_expires_at=timezone.now() - timedelta(seconds=1),
        next_renewal_at=timezone.now(),
    )
    assert worker.renew_due(connection.pk) == worker.FAILED  # backing off for a minute now
    Connection.objects.filter(pk=connection.pk).update(token_url=good_url)  # the partner is back
    auth_server.reset_stats()
    result = diagnostics.run_test(Connection.objects.get(pk=connection.pk).specific)
    assert result.passed, result.sentence
    assert auth_server.stats()["by_grant_type"] == {"refresh_token": 1}


def test_retry_after_of_a_429_is_honoured(app_settings, auth_server, fault_server):
    # The fault server asks for 30 seconds (Retry-After: 30); the backoff step alone would be 10.
    app_settings(BACKOFF_FIRST_SECONDS=10)
    connection = due_connection(auth_server, fault_server.url("/429"))
    with time_machine.travel(START, tick=False):
        assert worker.renew_due(connection.pk) == worker.FAILED
    connection.refresh_from_db()
    assert connection.events.first().detail.startswith("The provider is limiting the number of requests (HTTP 429)")
    assert connection.next_renewal_at == START + timedelta(seconds=30)


def test_recovery_is_recorded_and_clears_the_failure_facts(app_settings, auth_server, fault_server):
    connection = due_connection(auth_server, fault_server.url("/503"))
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            worker.renew_due(connection.pk)
            connection.refresh_from_db()
            clock.move_to(connection.next_renewal_at)
        Connection.objects.filter(pk=connection.pk).update(token_url=fault_server.url("/token-ok"))
        assert worker.renew_due(connection.pk) == worker.RENEWED
    connection.refresh_from_db()
    assert connection.access_token == "fault-server-access-token"
    assert (connection.renewal_failing_since, connection.renewal_attempts) == (None, 0)
    assert connection.next_renewal_at == connection.token_expires_at - timedelta(seconds=120)
    recovered = connection.events.get(action="renewal recovered")
    assert "after 3 failed attempts" in recovered.detail


def test_one_mail_per_episode_of_failing_renewals(app_settings, auth_server, fault_server):
    connection = due_connection(auth_server, fault_server.url("/503"), expires_in=timedelta(hours=6))
    with time_machine.travel(START, tick=False) as clock:
        while timezone.now() < START + timedelta(hours=3):
            worker.renew_due(connection.pk)
            connection.refresh_from_db()
            if timezone.now() - START < timedelta(hours=1):
                assert mail.outbox == []  # failing, but for less than ALERT_AFTER
            clock.move_to(connection.next_renewal_at)
        assert len(mail.outbox) == 1
        assert "failing to renew" in mail.outbox[0].subject and connection.name in mail.outbox[0].subject
        assert f"/admin/connectors/hypatosconnection/{connection.pk}/change/" in mail.outbox[0].body
        # Recovery ends the episode; the next one gets its own mail.
        Connection.objects.filter(pk=connection.pk).update(token_url=fault_server.url("/token-ok"))
        assert worker.renew_due(connection.pk) == worker.RENEWED
        Connection.objects.filter(pk=connection.pk).update(
            token_url=fault_server.url("/503"), next_renewal_at=timezone.now()
        )
        start_again = timezone.now()
        while timezone.now() < start_again + timedelta(hours=2):
            worker.renew_due(connection.pk)
            connection.refresh_from_db()
            clock.move_to(connection.next_renewal_at)
    assert len(mail.outbox) == 2


def test_dead_grant_mails_at_once_and_only_once(app_settings, auth_server, fault_server):
    from tests.engine.test_concurrency import authorize_inverbis

    connection = authorize_inverbis(auth_server)
    Connection.objects.filter(pk=connection.pk).update(
        token_url=fault_server.url("/invalid-grant"), next_renewal_at=timezone.now()
    )
    assert worker.renew_due(connection.pk) == worker.REAUTHORIZE
    connection.refresh_from_db()
    assert connection.status == Status.NEEDS_REAUTHORIZATION and not connection.refresh_token
    assert len(mail.outbox) == 1 and "needs reauthorization" in mail.outbox[0].subject
    assert worker.renew_due(connection.pk) == worker.NOT_DUE  # nothing retries a dead grant
    assert len(mail.outbox) == 1


def test_circuit_lets_one_probe_through_while_a_host_is_down(app_settings, auth_server, fault_server):
    app_settings(CIRCUIT_THRESHOLD=3)
    fault_server.reset()
    connections = [due_connection(auth_server, fault_server.url("/503"), name=f"Down {n}") for n in range(8)]
    host = f"127.0.0.1:{fault_server.url('/').split(':')[2].split('/')[0]}"
    with time_machine.travel(START, tick=False) as clock:
        outcomes = [worker.renew_due(c.pk) for c in connections]
        assert outcomes == [worker.FAILED] * 3 + [worker.WAITING] * 5
        assert fault_server.request_count == 3
        waiting = {c.pk for c in connections[3:]}
        assert not waiting & set(schedule.due_connection_ids())  # the sweep leaves them waiting
        state = PartnerHost.objects.get(host=host)
        clock.move_to(state.open_until)
        # Half-open: the first one through is the probe; it fails, the circuit opens for longer.
        assert [worker.renew_due(pk) for pk in sorted(waiting)][:2] == [worker.FAILED, worker.WAITING]
        assert fault_server.request_count == 4
        longer = PartnerHost.objects.get(host=host).open_until - timezone.now()
        assert longer >= timedelta(seconds=120)
        # The host answers again: the probe succeeds, the circuit closes, the others follow.
        Connection.objects.filter(pk__in=[c.pk for c in connections]).update(token_url=fault_server.url("/token-ok"))
        clock.move_to(PartnerHost.objects.get(host=host).open_until)
        renewed = [worker.renew_due(pk) for pk in sorted(waiting)]
    # Each renews, but the failed probe only if its own backoff has run out by then.
    assert renewed.count(worker.RENEWED) >= 4 and set(renewed) <= {worker.RENEWED, worker.NOT_DUE}
    assert PartnerHost.objects.get(host=host).failures_in_row == 0


@pytest.mark.database
def test_a_claim_left_by_a_killed_process_is_taken_over_after_its_lifetime(auth_server):
    connection = make_hypatos(auth_server)
    connection.get_access_token()
    old = Connection.objects.get(pk=connection.pk)
    now = timezone.now()
    # A process took the claim and was killed before it stored anything or gave the claim back.
    Connection.objects.filter(pk=connection.pk).update(
        token_expires_at=now - timedelta(seconds=1),
        renewal_claimed_by="dead-host:4242:killed",
        renewal_claim_expires_at=now + claims.lifetime(),
    )
    auth_server.reset_stats()
    with time_machine.travel(now + claims.lifetime() + timedelta(seconds=1), tick=True):
        token = tokens.get_access_token(Connection.objects.get(pk=connection.pk).specific)
    assert token != old.access_token and auth_server.stats()["total"] == 1
    connection.refresh_from_db()
    assert connection.access_token == token
    assert connection.renewal_claimed_by == "" and connection.renewal_claim_expires_at is None


def test_backoff_steps_are_capped_and_start_at_a_minute(settings):
    assert [backoff.step_seconds(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_an_unreadable_secret_is_said_in_the_log_and_sends_nothing(app_settings, auth_server, caplog):
    connection = due_connection(auth_server, auth_server.hypatos_token_url)
    # The client secret was encrypted with a key that is no longer configured.
    foreign = Fernet(Fernet.generate_key()).encrypt(b"the-old-secret").decode()
    with db_connection.cursor() as cursor:
        table = Connection._meta.db_table
        cursor.execute(f"UPDATE {table} SET client_secret = %s WHERE id = %s", [foreign, connection.pk])
    auth_server.reset_stats()
    with time_machine.travel(START, tick=False):
        assert worker.renew_due(connection.pk) == worker.FAILED
    assert auth_server.stats()["total"] == 0
    assert "FIELD_ENCRYPTION_KEY cannot decrypt the stored client_secret" in caplog.text
    assert "the-old-secret" not in caplog.text and foreign not in caplog.text
