"""Renewals that fall due together, renewed together (connectors/engine/burst.py): each due connection
renewed exactly once however many drains (workers) run at once, a partner host's concurrency and
rate never exceeded, planning in one statement. On SQLite and, with `make test`, on PostgreSQL:
the drains' threads each hold their own database connection, as workers on other machines do."""

import threading
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.db import connections as db_connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.engine import burst, schedule
from connectors.models import Connection, Event, HypatosConnection, Status
from tests.slow_partner import SlowPartner

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]


def due_rows(count, partner, *, due=True, prefix="Burst"):
    """`count` authorized client-credentials connections at `partner` whose renewal is due now."""
    now = timezone.now()
    rows = [
        HypatosConnection.objects.create(
            name=f"{prefix} {n:03d}",
            endpoint_url=partner.endpoint,
            token_url=partner.token_url,
            client_id=f"{prefix}-{n}",
            client_secret="burst-secret",
            scope="projects.read",
            access_token="old-token",
            status=Status.AUTHORIZED,
            token_obtained_at=now - timedelta(minutes=58),
            token_expires_at=now + timedelta(minutes=2),
            next_renewal_at=now - timedelta(seconds=1) if due else now + timedelta(hours=1),
        )
        for n in range(count)
    ]
    return [row.pk for row in rows]


def drains_at_once(count, **options):
    """`count` drains running at the same time, each on its own thread and database connection."""
    outcomes = []

    def run():
        try:
            outcomes.append(burst.drain(**options))
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_every_due_connection_is_renewed_exactly_once_by_drains_running_at_once(settings):
    with SlowPartner(delay=0.05) as partner:
        due = due_rows(60, partner)
        not_due = due_rows(5, partner, due=False, prefix="Later")
        outcomes = drains_at_once(3, size=10, workers=4)
        headers = partner.token_requests
    assert len(headers) == 60 and len(set(headers)) == 60  # one token request per due connection
    assert sum(outcome.get("renewed", 0) for outcome in outcomes) == 60
    renewed = Connection.objects.filter(pk__in=due)
    assert set(renewed.values_list("access_token", flat=True)) == {"slow-partner-token"}
    assert not renewed.exclude(renewal_claimed_by="").exists()  # every claim given back
    assert all(c.next_renewal_at > timezone.now() + timedelta(minutes=50) for c in renewed)
    events = Event.objects.filter(connection_id__in=due, action="token requested")
    assert events.count() == 60 and events.values("connection_id").distinct().count() == 60
    assert set(Connection.objects.filter(pk__in=not_due).values_list("access_token", flat=True)) == {"old-token"}


def test_a_hosts_concurrency_is_never_exceeded(settings):
    with SlowPartner(delay=0.05) as partner:
        settings.PARTNER_CONNECTIONS = {
            **settings.PARTNER_CONNECTIONS,
            "PARTNER_HOST_LIMITS": {partner.host_key: {"concurrency": 3}},
        }
        due_rows(30, partner)
        burst.drain(size=10, workers=16)
        assert partner.count == 30
        assert partner.most_in_flight == 3  # reached, never exceeded


def test_a_hosts_rate_is_kept_by_all_workers_together(settings):
    with SlowPartner(delay=0.01) as partner:
        # 10 calls per second: one every 100 ms, whoever makes them.
        settings.PARTNER_CONNECTIONS = {
            **settings.PARTNER_CONNECTIONS,
            "PARTNER_HOST_LIMITS": {partner.host_key: {"calls": 10, "per_seconds": 1}},
        }
        due_rows(14, partner)
        drains_at_once(2, size=4, workers=8)
        started = sorted(partner.started)
    assert len(started) == 14
    # In any second, at most 10 requests arrived: the 11th after the 1st came a second later (less
    # the jitter between a request's start and its arrival, a few milliseconds on loopback).
    assert all(later - earlier >= 0.97 for earlier, later in zip(started, started[10:], strict=False))
    # Evenly spread, not 10 at once and then a pause.
    assert started[-1] - started[0] >= 13 * 0.1 - 0.03


def test_planning_is_one_statement_whatever_the_number_and_never_later_than_the_rows_own_plan():
    now = timezone.now().replace(microsecond=0)
    lifetimes = [timedelta(seconds=s) for s in (60, 239, 240, 3600, 12 * 3600, 13 * 3600, 3 * 86400)]
    rows = []
    for n, lifetime in enumerate(lifetimes * 2):
        rows.append(
            HypatosConnection.objects.create(
                name=f"Plan {n}",
                client_id="x",
                client_secret="y",
                access_token="t",
                refresh_token="r" if n % 2 else "",
                status=Status.AUTHORIZED,
                token_obtained_at=None if n == 3 else now,
                token_expires_at=now + lifetime,
            )
        )
    with CaptureQueriesContext(db_connection) as queries:
        assert schedule.plan_unplanned() == len(rows)
    assert len(queries) == 1
    for row in rows:
        stored = Connection.objects.get(pk=row.pk)
        own = schedule.planned_renewal(row)
        assert stored.next_renewal_at <= own
        lifetime = row.token_expires_at - row.token_obtained_at if row.token_obtained_at else None
        if lifetime is None or timedelta(seconds=240) <= lifetime <= timedelta(hours=12) or row.refresh_token:
            # Exact, except the estimates the worker corrects: short lives, refresh tokens it cannot see.
            if lifetime is None or lifetime >= timedelta(seconds=240):
                assert stored.next_renewal_at == own, row.name


def test_an_early_bulk_plan_is_corrected_without_calling_the_partner():
    with SlowPartner(delay=0) as partner:
        now = timezone.now()
        (pk,) = due_rows(1, partner)
        # A 3-day token without a refresh token, planned in bulk at 12 hours (as if it had one).
        Connection.objects.filter(pk=pk).update(
            token_obtained_at=now - timedelta(hours=12, seconds=1),
            token_expires_at=now + timedelta(days=3),
            next_renewal_at=now - timedelta(seconds=1),
        )
        assert burst.drain() == {"not due": 1}
        assert partner.count == 0
    assert Connection.objects.get(pk=pk).next_renewal_at == now + timedelta(days=3) - timedelta(seconds=120)


def test_a_drain_with_more_due_than_one_batch_calls_an_idle_worker_in(settings):
    from connectors.engine import queue, tasks

    settings.PARTNER_CONNECTIONS = {**settings.PARTNER_CONNECTIONS, "RENEWAL_BATCH_SIZE": 10}
    with SlowPartner(delay=0) as partner:
        due_rows(30, partner)
        due_rows(1, partner, due=False, prefix="Later")  # its wake-up is queued for later
        schedule.wake_at(timezone.now() + timedelta(hours=1))
        assert not queue.is_pending("renew_due_now", by=timezone.now())
        tasks.renew_due_now.call()
        assert partner.count == 30
    # A second drain waits for any idle worker now, beside the later wake-up.
    assert queue.is_pending("renew_due_now", by=timezone.now())
