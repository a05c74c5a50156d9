"""Renewals that fall due together, renewed together: the worker's drain.

The schedule is the indexed `next_renewal_at` column. A drain claims up to RENEWAL_BATCH_SIZE due
connections at once in one short transaction (on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED`, so
that several workers claim disjoint rows; SQLite has one writer anyway), giving them all one
holder with one UPDATE, reads them with their provider's fields in one query, and renews them on
RENEWAL_WORKERS threads. Each renewal first passes its partner host's gate
(connectors/engine/host_limits.py: a rate kept by all workers, a concurrency per worker), then calls the
partner with no transaction open and stores the answer with an UPDATE that matches the claim
(connectors/engine/renewal.py), so only the holder stores and each due connection is renewed once. The
next batch is claimed while the threads still work on the last, until nothing is due.

A claim lives claims.lifetime(); a renewal that waited in the queue (a host's rate) longer than
the claim's slack extends its claim first, or drops the row when another holder has taken it
over. A killed worker's claims expire, and the next drain (the sweep's) takes them over.
"""

import logging
import queue
import threading
from datetime import timedelta

from django.db import connection as db_connection
from django.db import connections as db_connections
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.core import failures
from connectors.core.app_settings import app_settings
from connectors.engine import alerts, backoff, circuit, claims, host_limits, renewal, schedule, worker
from connectors.engine.runner import with_provider_fields
from connectors.models import Connection, PartnerHost

logger = logging.getLogger("connectors.engine.burst")

RENEWED, NOT_DUE, WAITING, FAILED, REAUTHORIZE, DROPPED = (
    worker.RENEWED,
    worker.NOT_DUE,
    worker.WAITING,
    worker.FAILED,
    worker.REAUTHORIZE,
    "dropped",
)
# A claim's lifetime beyond one renewal's longest duration (claims.lifetime()): a renewal that
# waited in the queue longer than this extends its claim before it calls the partner.
CLAIM_SLACK = timedelta(seconds=10)


def _free(now):
    return Q(renewal_claim_expires_at__isnull=True) | Q(renewal_claim_expires_at__lt=now)


def claim_batch(holder, size, skip_urls=(), now=None):
    """Claim up to `size` due connections for `holder` (oldest plan first); [(connection, claimed
    until)], each as its provider's model."""
    now = now or timezone.now()
    candidates = schedule.due(now).filter(_free(now)).order_by("next_renewal_at", "pk")
    if skip_urls:
        candidates = candidates.exclude(token_url__in=skip_urls)
    until = now + claims.lifetime()
    claim = {"renewal_claimed_by": holder, "renewal_claim_expires_at": until}
    if db_connection.features.has_select_for_update_skip_locked:
        # PostgreSQL: the rows another worker is claiming right now are skipped, not waited for.
        with transaction.atomic():
            ids = list(candidates.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:size])
            if not ids:
                return []
            Connection.objects.filter(pk__in=ids).update(**claim)
        claimed = Connection.objects.filter(pk__in=ids, renewal_claimed_by=holder)
    else:
        # SQLite: one statement, so its single write lock is held by the database alone, never
        # across Python code of ours waiting for its turn among the threads.
        if not Connection.objects.filter(pk__in=candidates.values("pk")[:size]).update(**claim):
            return []
        # This batch's rows: the holder's earlier batches, still being renewed, have another expiry.
        claimed = schedule.due(now).filter(renewal_claimed_by=holder, renewal_claim_expires_at=until)
    return [(row.specific, until) for row in with_provider_fields(claimed)]


class _Threads:
    """RENEWAL_WORKERS threads taking jobs from a queue, each on its own database connection,
    closed when the thread ends (a long-running worker keeps no idle connections)."""

    def __init__(self, size):
        self._jobs = queue.Queue()
        self._lock = threading.Condition()
        self._pending = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"renewal-{n}", daemon=True) for n in range(max(1, size))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job):
        with self._lock:
            self._pending += 1
        self._jobs.put(job)

    def _work(self):
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                try:
                    job()
                except Exception as error:  # noqa: BLE001 (one connection's bug must not stop the drain)
                    logger.error("a renewal job raised %s", type(error).__name__)
                finally:
                    with self._lock:
                        self._pending -= 1
                        self._lock.notify_all()
        finally:
            db_connections.close_all()

    def wait_below(self, count):
        with self._lock:
            while self._pending > count:
                self._lock.wait()

    def close(self):
        self.wait_below(0)
        for _thread in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()


class _Drain:
    def __init__(self, holder):
        self.holder = holder
        self.lock = threading.Lock()
        self.counts = {}
        self.skip_urls = set()
        self.failing_hosts = set(PartnerHost.objects.filter(failures_in_row__gt=0).values_list("host", flat=True))
        self.planned = schedule.DeferredEnqueues()

    def count(self, outcome):
        with self.lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def wait_for_host(self, connection):
        with self.lock:
            self.skip_urls.add(connection.token_url)

    def renew(self, connection, claimed_until, host, limit, start_at):
        """One claimed connection: through its host's gate to the partner, the outcome stored."""
        rows = Connection.objects.filter(pk=connection.pk)
        mine = rows.filter(renewal_claimed_by=self.holder)
        try:
            now = timezone.now()
            if not connection.renewal_failing_since:
                planned = schedule.planned_renewal(connection)
                if planned is None or planned > now:
                    # The stored plan was an early estimate (planned in bulk) or the token was
                    # renewed since: plan again from the row's own facts, nothing is sent.
                    mine.update(next_renewal_at=planned, renewal_claimed_by="", renewal_claim_expires_at=None)
                    self.planned(connection.pk, planned)
                    return self.count(NOT_DUE)
            probing = False
            if host in self.failing_hosts:
                allowed, probing = circuit.admit(host, self.holder)
                if not allowed:
                    claims.release(rows, self.holder, **renewal.CLAIM)
                    self.wait_for_host(connection)
                    return self.count(WAITING)
            with host_limits.GATES.semaphore(host, limit):
                host_limits.GATES.wait_turn(host, limit, start_at)
                if timezone.now() > claimed_until - claims.lifetime() + CLAIM_SLACK:
                    # Waited in the queue: make sure the claim outlasts the request, or leave the row
                    # to whoever took it over.
                    if not mine.update(renewal_claim_expires_at=timezone.now() + claims.lifetime()):
                        return self.count(DROPPED)
                self.count(self._renew_claimed(connection, rows, host, probing))
        except Exception:
            # An unexpected error (a bug, a database hiccup): back off like a failed renewal, so that
            # the next batch does not claim the same connection again and again.
            logger.exception("renewing connection %s failed unexpectedly", connection.pk)
            rows.filter(renewal_claimed_by=self.holder).update(
                renewal_claimed_by="",
                renewal_claim_expires_at=None,
                next_renewal_at=timezone.now() + backoff.delay(connection.renewal_attempts + 1),
            )
            self.count(FAILED)

    def _renew_claimed(self, connection, rows, host, probing):
        before = connection.token_obtained_at
        failure = None
        try:
            renewal._renew_claimed(connection, rows, self.holder, self.planned)
        except failures.OAuthFailure as error:
            failure = error
        renewed = failure is None and connection.token_obtained_at != before
        if failure is not None and failure.kind != "busy":
            circuit.record(host, failure, self.holder, probing)
            with self.lock:
                self.failing_hosts.add(host)
        elif probing or (renewed and host in self.failing_hosts):
            circuit.record(host, None if renewed else failure, self.holder, probing)
        if failure is None:
            return RENEWED if renewed else NOT_DUE
        if failure.kind == "busy":
            return DROPPED
        outcome = worker.after_failure(connection, failure)
        alerts.check(connection.pk)
        return outcome


def drain(*, on_backlog=None, workers=None, size=None):
    """Renew every connection that is due, in batches, until none is left; {outcome: count}.
    `on_backlog()` is called once when more is due than this drain's first batch (the task
    enqueues another drain there, so that idle workers join in)."""
    size = size or app_settings.RENEWAL_BATCH_SIZE
    state = _Drain(claims.new_holder())
    threads = _Threads(workers or app_settings.RENEWAL_WORKERS)
    first = True
    try:
        while True:
            with state.lock:
                skip = set(state.skip_urls)
            batch = claim_batch(state.holder, size, skip)
            if not batch:
                threads.wait_below(0)
                with state.lock:
                    more = state.skip_urls != skip
                # Renewals finishing meanwhile may have made a host wait (nothing left for now), or
                # new connections may have come due while the last ones were renewed: look again.
                batch = claim_batch(state.holder, size, state.skip_urls) if not more else []
                if not batch and not more:
                    break
                if not batch:
                    continue
            if first and on_backlog is not None:
                first = False
                now = timezone.now()
                if schedule.due(now).filter(_free(now)).exists():
                    on_backlog()
            _submit(state, threads, batch)
            # Claim the next batch once half of this one is done: the threads never run dry, and a
            # worker holds at most about two batches of claims.
            threads.wait_below(size // 2)
    finally:
        threads.close()
        state.planned.flush()
    return state.counts


def _submit(state, threads, batch):
    """Each connection of `batch` as a job, with its host's gate: reserved start times (the rate)
    for all of the batch's connections at one host in one write."""
    by_host = {}
    for connection, until in batch:
        host = circuit.host_key(connection.token_url)
        by_host.setdefault(host, []).append((connection, until))
    for host, items in by_host.items():
        limit = host_limits.limit_for(host, connection_provider(items[0][0]))
        starts = host_limits.reserve(host, limit, len(items)) or [None] * len(items)
        for (connection, until), start_at in zip(items, starts, strict=True):
            threads.submit(lambda c=connection, u=until, h=host, lim=limit, s=start_at: state.renew(c, u, h, lim, s))


def connection_provider(connection):
    try:
        return connection.provider_info
    except KeyError:
        return None
