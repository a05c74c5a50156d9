"""What the background worker does with connections (the tasks in connectors/engine/tasks.py call these):
renew one due connection, and sweep for the due ones."""

import logging

from django.utils import timezone

from connectors.core import failures, token_state
from connectors.core.fields import UnreadableSecret
from connectors.engine import alerts, circuit, claims, renewal, schedule
from connectors.engine.runner import with_provider_fields
from connectors.models import Connection, Status
from connectors.partners import grants
from connectors.store import health

logger = logging.getLogger("connectors.engine.worker")

RENEWED, NOT_DUE, WAITING, FAILED, REAUTHORIZE, REFUSED = (
    "renewed",
    "not due",
    "waiting for host",
    "failed",
    "reauthorize",
    "refused",
)


def renew_due(pk, enqueue=None):
    """Renew connection `pk` if its renewal is due; the outcome as one of the words above.
    `enqueue(pk, at)` plans the next renewal (default: a task at once)."""
    try:
        connection = with_provider_fields(Connection.objects.filter(pk=pk)).first()
        if connection is None:
            return NOT_DUE
        connection = connection.specific
    except UnreadableSecret as unreadable:
        # A stored secret no configured key reads (a wrong FIELD_ENCRYPTION_KEY): nothing can be
        # sent, and no state can be stored on a row that cannot be read. Said in the log (the
        # sentence names the field, never a value) instead of failing the task.
        logger.error("connection %s not renewed: %s", pk, unreadable)
        return FAILED
    if not schedule.is_due(connection, timezone.now()):
        return NOT_DUE
    host = circuit.host_key(connection.token_url)
    holder = claims.new_holder()
    allowed, probing = circuit.admit(host, holder)
    if not allowed:
        return WAITING
    before = connection.token_obtained_at
    failure = None
    try:
        renewal.renew(connection, is_due=schedule.is_due, honour_backoff=False, just_read=True, enqueue=enqueue)
    except failures.OAuthFailure as error:
        failure = error
    finally:
        renewed = failure is None and connection.token_obtained_at != before
        if failure is not None and failure.kind != "busy":
            circuit.record(host, failure, holder, probing)
        elif renewed or probing:
            circuit.record(host, None if renewed else failure, holder, probing)
    if failure is None:
        return RENEWED if renewed else NOT_DUE  # a success ends any episode: nothing to tell
    outcome = after_failure(connection, failure)
    alerts.check(pk)
    return outcome


def after_failure(connection, failure):
    """The outcome word after a failed renewal, marking a connection that nothing can renew."""
    if failure.kind in ("not_authorized", "needs_reauthorization"):
        reason = grants.of(connection).unrenewable_reason
        if reason:
            # Nothing to renew with: only the operator can get a new token.
            Connection.objects.filter(pk=connection.pk, status=Status.AUTHORIZED).update(
                **token_state.needs_reauthorization(reason)
            )
        return REAUTHORIZE
    connection.refresh_from_db(fields=["status", "refused_at", "refusal", "settings_changed_at"])
    if connection.status == Status.NEEDS_REAUTHORIZATION:
        return REAUTHORIZE
    return REFUSED if health.refusal_in_force(connection) else FAILED


def sweep():
    """Plan what has no plan, and start a drain when something is due and none is queued; the
    number of connections due."""
    schedule.plan_unplanned()
    now = timezone.now()
    count = schedule.due(now).count()
    if count:
        # A drain already queued to run now (a busy or stopped worker) renews these too: one is enough.
        schedule.wake_at(now)
    schedule.wake_at_next_plan(now)
    return count
