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
from django.db.models import Case, DateTimeField, DurationField, ExpressionWrapper, F, Q, Value, When
from django.db.models.lookups import LessThan
from django.utils import timezone

from connectors.core.app_settings import app_settings
from connectors.engine import circuit, queue
from connectors.models import Connection, Status
from connectors.store import health

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
    """Is the worker's renewal of `connection` due at `now`? (its plan, or its backoff's next try;
    never while the provider's refusal of its settings is in force: connectors/store/health.py)"""
    if connection.status != Status.AUTHORIZED or health.refusal_in_force(connection):
        return False
    at = connection.next_renewal_at or planned_renewal(connection)
    return at is not None and at <= now


def due(now):
    """The connections whose worker renewal is due at `now` (served by the next_renewal_at index)."""
    return Connection.objects.filter(status=Status.AUTHORIZED, next_renewal_at__lte=now)


def enqueue_renewal(pk, at):
    """Make sure the worker wakes for connection `pk`'s renewal at `at` (after the current
    transaction commits). One wake-up serves every connection due by then."""
    if at is None:
        return
    transaction.on_commit(lambda: wake_at(at))


def wake_at(at):
    """A drain (connectors/engine/burst.py) queued to run at `at`, unless one is already queued
    to run by then; True when one was enqueued. Renewals are planned on the rows
    (next_renewal_at), not as a task each: 1,000 connections due at the same moment are one
    drain, not 1,000 tasks run one after the other."""
    at = max(at, timezone.now())
    if queue.is_pending("renew_due_now", by=at):
        return False
    queue.enqueue("renew_due_now", run_after=at)
    return True


def wake_at_next_plan(now=None):
    """After a drain or a sweep: a drain queued for the earliest plan still ahead (plans made
    while a drain was queued for earlier did not queue one of their own)."""
    now = now or timezone.now()
    upcoming = (
        Connection.objects.filter(status=Status.AUTHORIZED, next_renewal_at__gt=now)
        .order_by("next_renewal_at")
        .values_list("next_renewal_at", flat=True)
        .first()
    )
    if upcoming is not None:
        wake_at(upcoming)


class DeferredEnqueues:
    """The plans of many renewals (from many threads), woken for together: one wake-up for the
    earliest instead of a write per renewal (SQLite has a single writer)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._earliest = None

    def __call__(self, pk, at):
        if at is not None:
            with self._lock:
                if self._earliest is None or at < self._earliest:
                    self._earliest = at

    def flush(self):
        with self._lock:
            earliest, self._earliest = self._earliest, None
        if earliest is not None:
            wake_at(earliest)


def after_new_authorization(connection):
    """A new authorization (Generate) starts a new renewal plan and a new alert episode."""
    values = {
        "next_renewal_at": planned_renewal(connection),
        "renewal_failing_since": None,
        "renewal_attempts": 0,
        "renewal_alerted_at": None,
        **health.CLEARED_REFUSAL,
    }
    Connection.objects.filter(pk=connection.pk).update(**values)
    for name, value in values.items():
        setattr(connection, name, value)
    enqueue_renewal(connection.pk, values["next_renewal_at"])


def planned_renewal_expression():
    """planned_renewal() as a database expression, for rows with a token (token_expires_at set).

    The refresh token is encrypted, so the database cannot see whether one is stored: every row
    is planned as if it had one (no later than REFRESH_AT_LEAST_EVERY after its token was
    obtained). That plan is never later than the true one; the worker reads the row before it
    renews and plans again from the row's own facts when the true plan is later
    (connectors/engine/burst.py), without calling the partner."""
    margin = timedelta(seconds=app_settings.REFRESH_MARGIN_SECONDS)
    expires, obtained = F("token_expires_at"), F("token_obtained_at")
    at_margin = ExpressionWrapper(expires - Value(margin, output_field=DurationField()), output_field=DateTimeField())
    before_expiry = Case(
        When(token_obtained_at__isnull=True, then=at_margin),
        # A token living less than twice the margin is renewed half-way through its life; halving
        # a duration is not portable SQL, so such a row is planned at once, and the worker plans
        # it again from its own facts (these tokens are rare: few partners issue them).
        When(Q(token_expires_at__lt=obtained + Value(margin * 2, output_field=DurationField())), then=obtained),
        default=at_margin,
        output_field=DateTimeField(),
    )
    every = Value(timedelta(seconds=app_settings.REFRESH_AT_LEAST_EVERY), output_field=DurationField())
    idle_limit = ExpressionWrapper(obtained + every, output_field=DateTimeField())
    return Case(
        When(
            Q(token_obtained_at__isnull=False) & Q(LessThan(idle_limit, before_expiry)),
            then=idle_limit,
        ),
        default=before_expiry,
        output_field=DateTimeField(),
    )


def plan_unplanned():
    """Give a plan to authorized connections without one (stored before the worker existed, or
    written by other means): one UPDATE, whatever their number."""
    return (
        Connection.objects.filter(status=Status.AUTHORIZED, next_renewal_at__isnull=True)
        .exclude(token_expires_at=None)
        .exclude(health.REFUSAL_IN_FORCE)
        .update(next_renewal_at=planned_renewal_expression())
    )


def due_connection_ids(now=None):
    """Ids of the connections whose renewal is due, oldest plan first, outside open circuits."""
    now = now or timezone.now()
    due = (
        Connection.objects.filter(status=Status.AUTHORIZED, next_renewal_at__lte=now)
        .exclude(health.REFUSAL_IN_FORCE)
        .order_by("next_renewal_at")
    )
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
