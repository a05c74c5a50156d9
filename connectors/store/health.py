"""One health per connection, derived in one place from its facts, and the decision table
that turns what a partner answered into those facts (docs/health.md).

Badges, the status filter, the index banner, the row actions, the API, alerts and the worker's
retry decision all read this module; nothing else decides what state a connection is in.

What a partner's answer means (`verdict()`, read by the renewal and Test Connection alike):

- REAUTHORIZE: the refresh token of a grant whose operator logs in is dead (invalid_grant); only
  Regenerate helps (status "needs reauthorization").
- REFUSED: the provider refused the saved settings for good (invalid_client,
  unauthorized_client, invalid_grant of a password or client, invalid_scope, an unsupported
  grant, another OAuth error, HTTP 401/403/404 at the token endpoint, a URL off the allowed hosts).
  Trying again cannot help until someone changes the settings: the refusal is stored
  (`refused_at`, `refusal`), the worker does not retry it, callers get its sentence without a
  new request, and it ends with the next settings change, new authorization or passing renewal.
- TEMPORARY: the partner did not answer usably for now (connection refused, timeout, TLS, an
  unknown host, 5xx, 429, a broken answer): renewals back off and retry (connectors/engine/backoff.py).
- NOT_SENT: nothing was sent (no token to renew, a secret not stored): no failure is recorded.

Precedence of the states, first match wins:

1. needs reauthorization: the provider refused the stored authorization (invalid_grant); only
   the operator's Regenerate helps.
2. settings refused: a refusal of the saved settings is in force (newer than their last
   change); the badge names the fields to fix.
3. renewal failing: renewals fail for a passing reason (timeout, 5xx, 429); the token may still
   be valid, but will not stay so.
4. expired: the token of a connection the operator authorizes (Generate) is past its expiry and
   nobody renewed it yet. Client credentials fetch a token on demand, so an expired one is no
   problem there (ready).
5. last test failed: the last Test Connection failed, and it ran after the last authorization
   and after the last change of the settings (a newer token or newer settings make an older
   failure moot).
6. changed since last test: the settings were saved after the last passing test and after the
   last token was obtained, and the connection has a token or fetches one on demand: nothing
   has shown yet that the new settings work (never green).
7. authorized: a valid token is stored; ready: the connection's grant fetches a token when needed
   (Grant.token_on_demand: client credentials).
8. not authorized: nothing stored yet; Generate is the next step.

Each rule is written twice, side by side: as a test of one loaded connection (`health_of`) and
as a database condition (`health_expression`, for the list filter and the index banner's counts).
tests/store/test_health.py checks on every combination of facts that both give the same answer.

The facts: `status`, `token_expires_at` (every stored token has one: store_token() never stores
a token without an expiry, and clear_tokens() clears both, so it stands for "a token is stored"
in the database, where the encrypted token cannot be inspected), `token_obtained_at`,
`last_test_at` / `last_test_passed`, `settings_changed_at`, `refused_at` / `refusal`, and
`renewal_failing_since`.
"""

import functools
import operator
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Case, CharField, Count, F, Q, TextChoices, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connectors.core import failures, sentences
from connectors.core.token_state import Status
from connectors.partners import grants


class Health(TextChoices):
    NEEDS_REAUTHORIZATION = "needs_reauthorization", _("needs reauthorization")
    REFUSED = "settings_refused", _("settings refused")
    RENEWAL_FAILING = "renewal_failing", _("renewal failing")
    EXPIRED = "expired", _("expired")
    TEST_FAILED = "test_failed", _("last test failed")
    CHANGED = "changed", _("changed since last test")
    AUTHORIZED = "authorized", _("authorized")
    READY = "ready", _("ready")
    NOT_AUTHORIZED = "not_authorized", _("not authorized")


# The badge colour of each health: what needs the operator, what may need them soon, what is fine.
TONES = {
    Health.NEEDS_REAUTHORIZATION: "danger",
    Health.REFUSED: "danger",
    Health.RENEWAL_FAILING: "warning",
    Health.EXPIRED: "warning",
    Health.TEST_FAILED: "danger",
    Health.CHANGED: "warning",
    Health.AUTHORIZED: "ok",
    Health.READY: "ok",
    Health.NOT_AUTHORIZED: "muted",
}

# What deserves the operator's attention on the admin index, in the banner's order.
NEEDS_ATTENTION = (
    Health.NEEDS_REAUTHORIZATION,
    Health.REFUSED,
    Health.RENEWAL_FAILING,
    Health.EXPIRED,
    Health.TEST_FAILED,
    Health.CHANGED,
)

# Why a state is what it is, for the badge's tooltip.
EXPLANATIONS = {
    Health.NEEDS_REAUTHORIZATION: _("The provider no longer accepts the stored authorization: click Regenerate."),
    Health.REFUSED: _(
        "The provider refused the saved settings: correct the fields named and save; nothing is retried until then."
    ),
    Health.RENEWAL_FAILING: _(
        "Renewing the token fails for now (the provider did not answer, or answered with a passing error); it is "
        "retried with growing pauses."
    ),
    Health.EXPIRED: _("The token has expired and was not renewed yet: Test Connection renews it if it can."),
    Health.TEST_FAILED: _("The last Test Connection failed, after the last authorization and settings change."),
    Health.CHANGED: _("The settings were changed after the last passing test: click Test Connection."),
    Health.AUTHORIZED: _("A valid token is stored."),
    Health.READY: _("Tokens are fetched when needed (client credentials)."),
    Health.NOT_AUTHORIZED: _("No token yet: click Generate."),
}


# -- the decision table: what a partner's answer means ------------------------------------


class Verdict(StrEnum):
    """What a failure means (code words, never shown: the states are what the operator reads)."""

    REAUTHORIZE = "reauthorize"  # only Regenerate helps
    REFUSED = "refused"  # refused until the settings change
    TEMPORARY = "temporary"  # retried with backoff
    NOT_SENT = "not_sent"  # nothing sent, nothing recorded


# Failure kinds (connectors/core/failures.py) by what they mean for the saved settings. Nothing
# was sent for these: no token and no way to get one alone, a renewal backing off, another
# process renewing.
NOT_SENT = frozenset({"not_authorized", "needs_reauthorization", "renewal_backoff", "busy"})
REFUSED_KINDS = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_grant", "invalid_scope", "unsupported_grant_type", "not_found"}
)
# An HTTP status at the token endpoint that no waiting changes (without an OAuth error code).
REFUSED_STATUSES = frozenset({400, 401, 403, 404, 405})
# What the partner may get over by itself: retried with backoff (connectors/engine/backoff.py).
TEMPORARY_KINDS = frozenset(
    {
        "timeout",
        "refused",
        "network",
        "tls",
        "unknown_host",
        "server_error",
        "temporarily_unavailable",
        "rate_limited",
        "redirect",
        "not_json",
        "too_large",
        "malformed_answer",
        "no_token",
    }
)

# The fields an operator corrects after each refusal, as named on the form (the OAuth 2.0 tab).
REFUSAL_FIELDS = {
    "invalid_client": ("client_id", "client_secret"),
    "unauthorized_client": ("client_id",),
    "invalid_scope": ("scope",),
    "unsupported_grant_type": ("token_url",),
    "not_found": ("token_url",),
    "blocked_host": ("token_url",),
    "http_error": ("token_url", "client_id", "client_secret"),
    "token_refused": ("client_id", "client_secret", "token_url"),
}


def verdict(failure, connection) -> Verdict:
    """What `failure` (an OAuthFailure met asking for a token with the saved settings) means."""
    kind, status = failure.kind, getattr(failure, "status", None)
    if kind in NOT_SENT:
        return Verdict.NOT_SENT
    if kind == "invalid_grant" and grants.of(connection).dead_grant_reason:
        return Verdict.REAUTHORIZE  # the refresh token of a login is dead, not the settings
    if kind in REFUSED_KINDS or kind == "blocked_host":
        return Verdict.REFUSED
    if kind in TEMPORARY_KINDS:
        return Verdict.TEMPORARY
    if kind == "http_error" and status in REFUSED_STATUSES:
        return Verdict.REFUSED
    if status is not None and 400 <= status < 500 and status != 429:
        return Verdict.REFUSED  # another OAuth error code (token_refused): a settings matter
    return Verdict.TEMPORARY


def refusal_fields(failure, connection):
    """The fields to correct after a refusal, as field names of the connection's model."""
    if failure.kind == "invalid_grant":
        names = grants.of(connection).refused_grant_fields
    else:
        names = REFUSAL_FIELDS.get(failure.kind, REFUSAL_FIELDS["token_refused"])
    present = {field.name for field in type(connection)._meta.get_fields()}
    return [name for name in names if name in present]


def refusal_values(connection, failure, now=None):
    """The facts to store when the provider refused the saved settings: the refusal (its kind,
    the fields to fix, its sentence, never a secret), no planned renewal, no backoff. A refusal
    already in force keeps its alert episode (one mail per episode, connectors/engine/alerts.py)."""
    now = now or timezone.now()
    values = {
        "refused_at": now,
        "refusal": {
            "kind": failure.kind,
            "status": getattr(failure, "status", None),
            "fields": refusal_fields(failure, connection),
            "sentence": sentences.stored(failure.message) or {},
        },
        "next_renewal_at": None,
        "renewal_failing_since": None,
        "renewal_attempts": 0,
        "updated_at": now,
    }
    if not refusal_in_force(connection):
        values["renewal_alerted_at"] = None
    return values


CLEARED_REFUSAL = {"refused_at": None, "refusal": None}


def refusal_in_force(connection) -> bool:
    """A refusal counts until the settings change after it (whatever door changed them)."""
    refused, changed = getattr(connection, "refused_at", None), getattr(connection, "settings_changed_at", None)
    return refused is not None and (changed is None or refused >= changed)


REFUSAL_IN_FORCE = Q(refused_at__isnull=False) & (
    Q(settings_changed_at__isnull=True) | Q(refused_at__gte=F("settings_changed_at"))
)


def refusal_failure(connection):
    """The stored refusal as the failure callers get instead of asking the provider again."""
    refusal = connection.refusal or {}
    stored = refusal.get("sentence") or {}
    if sentences.known(stored.get("code")):
        message = sentences.Sentence(stored["code"], **(stored.get("params") or {}))
    else:
        message = str(EXPLANATIONS[Health.REFUSED])
    return failures.OAuthFailure(refusal.get("kind") or "refused_settings", message, refusal.get("status"))


@dataclass(frozen=True)
class HealthState:
    code: Health

    @property
    def label(self):
        return self.code.label

    @property
    def tone(self):
        return TONES[self.code]

    @property
    def explanation(self):
        return EXPLANATIONS[self.code]


def _on_demand_grants():
    """Grants whose tokens are fetched on demand, without the operator (client credentials)."""
    return [key for key, grant in grants.GRANTS.items() if grant.token_on_demand]


def _is_on_demand(connection):
    return grants.of(connection).token_on_demand


# -- the rules, each as a test of one connection and as a database condition -----------------


def _test_is_current(connection):
    """A failed test speaks for the connection only if no authorization and no settings change
    came after it."""
    tested = connection.last_test_at
    if tested is None:
        return False
    obtained, changed = connection.token_obtained_at, getattr(connection, "settings_changed_at", None)
    return (obtained is None or tested >= obtained) and (changed is None or tested >= changed)


def _changed_since_proven(connection):
    """Settings saved after the last passing test and after the last token: unproven."""
    changed = getattr(connection, "settings_changed_at", None)
    if changed is None:
        return False
    tested, obtained = connection.last_test_at, connection.token_obtained_at
    passed_since = tested is not None and connection.last_test_passed and tested >= changed
    return not passed_since and (obtained is None or obtained < changed)


def health_of(connection, now=None) -> HealthState:
    """The one health of a connection, from its stored facts (no query, no partner call)."""
    now = now or timezone.now()
    has_token = connection.token_expires_at is not None
    if connection.status == Status.NEEDS_REAUTHORIZATION:
        return HealthState(Health.NEEDS_REAUTHORIZATION)
    if refusal_in_force(connection):
        return HealthState(Health.REFUSED)
    if getattr(connection, "renewal_failing_since", None):
        return HealthState(Health.RENEWAL_FAILING)
    if has_token and connection.token_expires_at <= now and not _is_on_demand(connection):
        return HealthState(Health.EXPIRED)
    if connection.last_test_passed is False and _test_is_current(connection):
        return HealthState(Health.TEST_FAILED)
    if (has_token or _is_on_demand(connection)) and _changed_since_proven(connection):
        return HealthState(Health.CHANGED)
    if _is_on_demand(connection):
        return HealthState(Health.READY)
    if has_token:
        return HealthState(Health.AUTHORIZED)
    return HealthState(Health.NOT_AUTHORIZED)


def _conditions(model, now):
    """[(health, Q)] in precedence order: the database twin of health_of()."""
    # Each row stores its grant (Connection.grant): the generic provider's is chosen per row.
    on_demand = Q(grant__in=_on_demand_grants())
    has_token = Q(token_expires_at__isnull=False)
    test_current = (
        Q(last_test_at__isnull=False)
        & (Q(token_obtained_at__isnull=True) | Q(last_test_at__gte=F("token_obtained_at")))
        & (Q(settings_changed_at__isnull=True) | Q(last_test_at__gte=F("settings_changed_at")))
    )
    passed_since_change = (
        Q(last_test_at__isnull=False) & Q(last_test_passed=True) & Q(last_test_at__gte=F("settings_changed_at"))
    )
    changed = (
        Q(settings_changed_at__isnull=False)
        & ~passed_since_change
        & (Q(token_obtained_at__isnull=True) | Q(token_obtained_at__lt=F("settings_changed_at")))
    )
    return [
        (Health.NEEDS_REAUTHORIZATION, Q(status=Status.NEEDS_REAUTHORIZATION)),
        (Health.REFUSED, REFUSAL_IN_FORCE),
        (Health.RENEWAL_FAILING, Q(renewal_failing_since__isnull=False)),
        (Health.EXPIRED, has_token & Q(token_expires_at__lte=now) & ~on_demand),
        (Health.TEST_FAILED, Q(last_test_passed=False) & test_current),
        (Health.CHANGED, (has_token | on_demand) & changed),
        (Health.READY, on_demand),
        (Health.AUTHORIZED, has_token),
    ]


def health_expression(model, now=None):
    """A Case/When giving each row's health code in the database: annotate(health=...)."""
    now = now or timezone.now()
    return Case(
        *(When(condition, then=Value(code.value)) for code, condition in _conditions(model, now)),
        default=Value(Health.NOT_AUTHORIZED.value),
        output_field=CharField(),
    )


def with_health(queryset, now=None):
    return queryset.annotate(health=health_expression(queryset.model, now))


def filter_by_health(queryset, code, now=None):
    return with_health(queryset, now).filter(health=code)


# Beyond this many candidate rows the banner counts with one aggregate instead of a list of ids.
CANDIDATES_LISTED = 2000


def attention_candidates(now=None):
    """[Q] whose union holds every row that could have a health of NEEDS_ATTENTION (a superset);
    each is served by an index (the status/expiry index, and partial indexes on failing renewals
    and failed tests), so the banner reads those rows only, not the whole table."""
    now = now or timezone.now()
    return [
        Q(status=Status.NEEDS_REAUTHORIZATION),
        Q(renewal_failing_since__isnull=False),
        Q(status=Status.AUTHORIZED, token_expires_at__lte=now),
        Q(status=Status.NOT_AUTHORIZED, token_expires_at__lte=now),
        Q(last_test_passed=False),
        # Settings refused, or changed since they were last proven (issue 17): not served by an
        # index of their own yet.
        Q(refused_at__isnull=False),
        Q(settings_changed_at__isnull=False),
    ]


def attention_counts(queryset, now=None):
    """{health code: number} for the healths that need attention (the admin index's banner), from
    the candidate rows only: a few index lookups and one count over what they found, flat in the
    number of healthy connections. (One aggregate over an OR of the candidates would read the
    whole table: SQLite does not combine these indexes.)"""
    now = now or timezone.now()
    found = set()
    for part in attention_candidates(now):
        found.update(queryset.filter(part).values_list("pk", flat=True)[: CANDIDATES_LISTED + 1])
        if len(found) > CANDIDATES_LISTED:
            found = None
            break
    if found is None:
        candidates = queryset.filter(functools.reduce(operator.or_, attention_candidates(now)))
    else:
        candidates = queryset.filter(pk__in=sorted(found))
    counted = counts(candidates, now) if found != set() else {}
    return {code: counted[code] for code in NEEDS_ATTENTION if counted.get(code)}


def counts(queryset, now=None):
    """{health code: number of connections}, in one query."""
    rows = with_health(queryset, now).order_by().values("health").annotate(number=Count("pk"))
    return {row["health"]: row["number"] for row in rows}
