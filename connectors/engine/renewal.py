"""Renewing one connection's token under a claim on its row, never inside a transaction.

Many threads, processes and machines may find the same token due at once. One of them takes the
connection's claim (connectors/engine/claims.py: a conditional UPDATE), calls the partner with no
transaction open, and stores the answer with an UPDATE that matches its claim, so only the
claim's holder can store; then it gives the claim back. The others poll the row briefly and find
the fresh token instead of making a request of their own (a rotating refresh token is used once).

After a failure the connection records how renewals are failing (renewal_failing_since,
renewal_attempts) and when the next try is due (next_renewal_at, by connectors/engine/backoff.py);
nothing renews it earlier unless asked to by force (the operator's Test Connection). What a
failure means is connectors/store/health.py's decision table: `invalid_grant` of a login marks it
"needs reauthorization" at once; a refusal of the saved settings (invalid_client, a refused
password, ...) is stored and not retried until the settings change (callers get its sentence
without a new request; Test Connection asks again); a passing fault backs off. A success after
failures is recorded as a recovery.
"""

import logging
import time

from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext_lazy

from connectors.core import failures, sentences, token_state, validators
from connectors.engine import backoff, claims, schedule
from connectors.models import Connection
from connectors.partners import grants
from connectors.store import events, health

logger = logging.getLogger("connectors.engine.renewal")

sentences.register(
    {"moved_host": gettext_lazy("A URL now points at another host or port: save, then click Regenerate.")}
)

CLAIM = {"by_field": "renewal_claimed_by", "until_field": "renewal_claim_expires_at"}
# How often a waiter looks whether the holder has stored the fresh token (seconds).
POLL_SECONDS = 0.05
# The renewal facts copied back onto the caller's connection object after a renewal.
STATE_FIELDS = [
    *token_state.TOKEN_FIELDS,
    "next_renewal_at",
    "renewal_failing_since",
    "renewal_attempts",
    "renewal_alerted_at",
    "refused_at",
    "refusal",
]


# The sentences of renewals (connectors/core/sentences.py).
sentences.register(
    {
        "busy": gettext_lazy("Another process is renewing this token and has not finished: try again in a moment."),
        "renewal_backoff": ngettext_lazy(
            "Renewing the token has failed %(attempts)d time since %(since)s; the next try is at %(next)s. Test "
            "Connection tries at once.",
            "Renewing the token has failed %(attempts)d times since %(since)s; the next try is at %(next)s. Test "
            "Connection tries at once.",
            "attempts",
        ),
        "renewal_recovered": ngettext_lazy(
            "Renewed again after %(attempts)d failed attempt since %(since)s.",
            "Renewed again after %(attempts)d failed attempts since %(since)s.",
            "attempts",
        ),
    }
)


class Busy(failures.OAuthFailure):
    def __init__(self):
        super().__init__("busy", sentences.Sentence("busy"))


def waiting_for_backoff(stored, now):
    """True when renewals of `stored` are failing and its next try is not due yet."""
    return bool(stored.renewal_failing_since and stored.next_renewal_at and stored.next_renewal_at > now)


def backoff_failure(stored):
    when = timezone.localtime(stored.next_renewal_at)
    return failures.failure(
        "renewal_backoff",
        None,
        attempts=stored.renewal_attempts,
        since=f"{timezone.localtime(stored.renewal_failing_since):%Y-%m-%d %H:%M %Z}",
        next=f"{when:%Y-%m-%d %H:%M %Z}",
    )


def renew(connection, *, is_due, honour_backoff=True, refuse_while_waiting=False, just_read=False, enqueue=None):
    """Renew `connection` if `is_due(stored_row, now)` still says so once it is ours; return the
    valid access token (stored by us or by whoever held the claim before us).

    `just_read`: `connection` was read from the database a moment ago (the worker), so the first
    look needs no read of its own. `enqueue(pk, at)` plans the next renewal (default: a task now).

    Raises OAuthFailure when the renewal fails, when renewals are backing off and the stored
    token has expired (honour_backoff), or at once while they are backing off when the caller
    insists on a new token (refuse_while_waiting: a forced refresh must not turn a partner's
    Retry-After into a request per caller), or when the holder of the claim does not finish in time.
    """
    pk = connection.pk
    model = type(connection.specific)
    rows = Connection.objects.filter(pk=pk)
    holder = claims.new_holder()
    give_up = time.monotonic() + claims.lifetime().total_seconds() + 1
    enqueue = enqueue or schedule.enqueue_renewal
    while True:
        stored = connection if just_read else model.objects.get(pk=pk)
        just_read = False
        if _hosts_differ(connection, stored):
            # An unsaved copy pointing elsewhere (Test Connection of an edited form): the stored
            # tokens belong to the saved hosts and are never sent anywhere else.
            raise failures.failure("not_authorized", None, "moved_host")
        now = timezone.now()
        if not is_due(stored, now):
            return _copied(connection, stored)
        if honour_backoff and health.refusal_in_force(stored):
            # Refused for good: asking again with the same settings only earns another refusal
            # (and, for a password, may lock the account).
            _copied(connection, stored)
            raise health.refusal_failure(stored)
        if honour_backoff and waiting_for_backoff(stored, now):
            _copied(connection, stored)
            if not refuse_while_waiting and token_state.is_fresh(
                stored.access_token, stored.token_expires_at, now, margin=0
            ):
                return stored.access_token
            raise backoff_failure(stored)
        if claims.take(rows, holder, now=now, **CLAIM):
            break
        if time.monotonic() > give_up:
            raise Busy()
        time.sleep(POLL_SECONDS)
    released = False
    try:
        # Read again under the claim: the previous holder may have stored just before we took it.
        stored = model.objects.get(pk=pk)
        if not is_due(stored, timezone.now()):
            return _copied(connection, stored)
        released = True  # from here on, the write that stores the outcome gives the claim back
        _renew_claimed(stored, rows, holder, enqueue)
        return _copied(connection, stored)
    finally:
        if not released:
            claims.release(rows, holder, **CLAIM)


def _renew_claimed(stored, rows, holder, enqueue):
    """Renew `stored`, whose claim `holder` holds; the write storing the outcome gives it back."""
    mine = rows.filter(renewal_claimed_by=holder)
    try:
        token, action = grants.of(stored).renew(stored)  # the partner's answer, no transaction open
    except failures.OAuthFailure as failure:
        if health.verdict(failure, stored) == health.Verdict.NOT_SENT:
            claims.release(rows, holder, **CLAIM)  # nothing to store: no request was made
        else:
            _store_failure(stored, failure, mine, enqueue)
        raise
    except BaseException:
        claims.release(rows, holder, **CLAIM)
        raise
    now = timezone.now()
    recovered = (stored.renewal_failing_since, stored.renewal_attempts)
    token_state.store_token(stored, token, now)
    values = {name: getattr(stored, name) for name in token_state.TOKEN_FIELDS}
    values.update(
        updated_at=now,
        # The claim is given back in the same write (one write less for SQLite's single writer).
        renewal_claimed_by="",
        renewal_claim_expires_at=None,
        renewal_failing_since=None,
        renewal_attempts=0,
        renewal_alerted_at=None,
        next_renewal_at=schedule.planned_renewal(stored),
        **health.CLEARED_REFUSAL,
    )
    if not mine.update(**values):
        # Our claim expired and another holder took it over: its answer counts, not ours.
        logger.warning("connection %s: renewal finished after its claim expired; answer dropped", stored.pk)
        raise Busy()
    for name, value in values.items():
        setattr(stored, name, value)
    events.record(stored, action)
    if recovered[0]:
        events.record(
            stored,
            "renewal recovered",
            detail=sentences.Sentence(
                "renewal_recovered",
                attempts=recovered[1],
                since=f"{timezone.localtime(recovered[0]):%Y-%m-%d %H:%M %Z}",
            ),
        )
    enqueue(stored.pk, values["next_renewal_at"])


def _store_failure(stored, failure, mine, enqueue):
    now = timezone.now()
    grant = grants.of(stored)
    verdict = health.verdict(failure, stored)
    if verdict == health.Verdict.REAUTHORIZE:
        # The grant is dead: drop the refresh token so nothing retries it, and say what to do.
        values = token_state.needs_reauthorization(grant.dead_grant_reason)
    elif verdict == health.Verdict.REFUSED:
        # The settings are refused: stored with the fields to fix, never retried by the worker.
        values = health.refusal_values(stored, failure, now)
    else:
        values = backoff.after_failure(stored, failure, now)
    mine.update(**values, renewal_claimed_by="", renewal_claim_expires_at=None)
    for name, value in values.items():
        setattr(stored, name, value)
    events.record(stored, grant.renewal_failed_action, succeeded=False, detail=failure.message)
    if values.get("next_renewal_at"):
        enqueue(stored.pk, values["next_renewal_at"])


def _hosts_differ(connection, stored):
    if type(connection) is not type(stored):
        return False  # a base Connection is only ever read from the database, never edited
    return any(
        # Another scheme, host or effective port is another place: the stored tokens stay home.
        validators.origin_of(getattr(connection, name)) != validators.origin_of(getattr(stored, name))
        for name in connection.provider_info.url_fields
    )


def _copied(connection, stored):
    for name in STATE_FIELDS:
        setattr(connection, name, getattr(stored, name))
    return connection.access_token
