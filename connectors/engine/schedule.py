"""When each connection is renewed by the worker, and the sweep that catches what was missed.

Each stored token plans its own renewal (`next_renewal_at`): REFRESH_MARGIN_SECONDS before it
expires (half-way through its life when it lives less than twice that), and when it comes with a
refresh token also no later than REFRESH_AT_LEAST_EVERY after it was obtained (idle refresh tokens expire at Keycloak-style servers). A task is enqueued to run at
that moment. After a failure `next_renewal_at` is the backoff's next try instead.

The sweep (every SWEEP_INTERVAL_SECONDS) finds the connections whose `next_renewal_at` has come
(a lost task, a worker that was down) and renews them in batches of RENEWAL_BATCH_SIZE, each batch
one task, so that several workers share the work; inside a task a bounded pool of threads
(RENEWAL_WORKERS) renews at once, since each renewal mostly waits on its partner. Connections of a
host whose circuit is open (connectors/engine/circuit.py) wait.
"""

import logging
import threading
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from connectors.core.app_settings import app_settings
from connectors.engine import circuit, queue
from connectors.models import Connection, Status

logger = logging.getLogger("connectors.engine.schedule")


def planned_renewal(connection):
    """When the stored token of `connection` should be renewed (None: nothing to renew)."""
    if connection.status != Status.AUTHORIZED or connection.token_expires_at is None:
        return None
    margin = timedelta(seconds=app_settings.REFRESH_MARGIN_SECONDS)
    if connection.token_obtained_at:
        # A token shorter-lived than twice the margin is renewed half-way through its life, not
        # at once (which would renew it again and again).
        margin = min(margin, (connection.token_expires_at - connection.token_obtained_at) / 2)
    at = connection.token_expires_at - margin
    if connection.refresh_token and connection.token_obtained_at:
        # A refresh token may die when it is not used (Keycloak's idle timeout): use it often.
        at = min(at, connection.token_obtained_at + timedelta(seconds=app_settings.REFRESH_AT_LEAST_EVERY))
    return at


def is_due(connection, now):
    """Is the worker's renewal of `connection` due at `now`? (its plan, or its backoff's next try)"""
    if connection.status != Status.AUTHORIZED:
        return False
    at = connection.next_renewal_at or planned_renewal(connection)
    return at is not None and at <= now


def enqueue_renewal(pk, at):
    """A task renewing connection `pk` at `at` (after the current transaction commits)."""
    if at is None:
        return
    transaction.on_commit(lambda: queue.enqueue("renew_connection", pk, run_after=max(at, timezone.now())))


class DeferredEnqueues:
    """Renewal tasks collected from many threads and enqueued together in one transaction (one
    write instead of one per renewal: SQLite has a single writer)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._planned = []

    def __call__(self, pk, at):
        if at is not None:
            with self._lock:
                self._planned.append((pk, at))

    def flush(self):
        with self._lock:
            planned, self._planned = self._planned, []
        if planned:
            now = timezone.now()
            with transaction.atomic():
                for pk, at in planned:
                    queue.enqueue("renew_connection", pk, run_after=max(at, now))


def after_new_authorization(connection):
    """A new authorization (Generate) starts a new renewal plan and a new alert episode."""
    values = {
        "next_renewal_at": planned_renewal(connection),
        "renewal_failing_since": None,
        "renewal_attempts": 0,
        "renewal_alerted_at": None,
    }
    Connection.objects.filter(pk=connection.pk).update(**values)
    for name, value in values.items():
        setattr(connection, name, value)
    enqueue_renewal(connection.pk, values["next_renewal_at"])


def plan_unplanned():
    """Give a plan to authorized connections without one (stored before the worker existed)."""
    rows = Connection.objects.filter(status=Status.AUTHORIZED, next_renewal_at__isnull=True)
    for connection in rows.exclude(token_expires_at=None).only(
        "provider", "status", "token_expires_at", "token_obtained_at", "refresh_token"
    ):
        Connection.objects.filter(pk=connection.pk, next_renewal_at__isnull=True).update(
            next_renewal_at=planned_renewal(connection)
        )


def due_connection_ids(now=None):
    """Ids of the connections whose renewal is due, oldest plan first, outside open circuits."""
    now = now or timezone.now()
    due = Connection.objects.filter(status=Status.AUTHORIZED, next_renewal_at__lte=now).order_by("next_renewal_at")
    waiting = circuit.open_hosts(now)
    ids = []
    for pk, token_url in due.values_list("pk", "token_url"):
        if waiting and circuit.host_key(token_url) in waiting:
            continue
        ids.append(pk)
    return ids


def batches(ids, size=None):
    size = size or app_settings.RENEWAL_BATCH_SIZE
    return [ids[start : start + size] for start in range(0, len(ids), size)]
