"""One health per connection, derived in one place from its facts.

Badges, the status filter, the index banner, the row actions, the API and alerts all read this
module; nothing else decides what state a connection is in. Precedence, first match wins:

1. needs reauthorization: the provider refused the stored authorization (invalid_grant); only
   the operator's Regenerate helps.
2. renewal failing: renewals fail for a passing reason (timeout, 5xx, 429); the token may still
   be valid, but will not stay so.
3. expired: the token of a connection the operator authorizes (Generate) is past its expiry and
   nobody renewed it yet. Client credentials fetch a token on demand, so an expired one is no
   problem there (ready).
4. last test failed: the last Test Connection failed, and it ran after the last authorization
   and after the last change of the settings (a newer token or newer settings make an older
   failure moot).
5. authorized: a valid token is stored; ready: the connection's grant fetches a token when needed
   (Grant.token_on_demand: client credentials).
6. not authorized: nothing stored yet; Generate is the next step.

Each rule is written twice, side by side: as a test of one loaded connection (`health_of`) and
as a database condition (`health_expression`, for the list filter and the index banner's counts).
tests/store/test_health.py checks on every combination of facts that both give the same answer.

The facts: `status`, `token_expires_at` (every stored token has one: store_token() never stores
a token without an expiry, and clear_tokens() clears both, so it stands for "a token is stored"
in the database, where the encrypted token cannot be inspected), `token_obtained_at`,
`last_test_at` / `last_test_passed`, `settings_changed_at`, and, once the renewal engine adds it,
`renewal_failing_since`.
"""

import functools
import operator
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, F, Q, TextChoices, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connectors.core.token_state import Status
from connectors.partners import grants


class Health(TextChoices):
    NEEDS_REAUTHORIZATION = "needs_reauthorization", _("needs reauthorization")
    RENEWAL_FAILING = "renewal_failing", _("renewal failing")
    EXPIRED = "expired", _("expired")
    TEST_FAILED = "test_failed", _("last test failed")
    AUTHORIZED = "authorized", _("authorized")
    READY = "ready", _("ready")
    NOT_AUTHORIZED = "not_authorized", _("not authorized")


# The badge colour of each health: what needs the operator, what may need them soon, what is fine.
TONES = {
    Health.NEEDS_REAUTHORIZATION: "danger",
    Health.RENEWAL_FAILING: "warning",
    Health.EXPIRED: "warning",
    Health.TEST_FAILED: "danger",
    Health.AUTHORIZED: "ok",
    Health.READY: "ok",
    Health.NOT_AUTHORIZED: "muted",
}

# What deserves the operator's attention on the admin index, in the banner's order.
NEEDS_ATTENTION = (Health.NEEDS_REAUTHORIZATION, Health.RENEWAL_FAILING, Health.EXPIRED, Health.TEST_FAILED)

# Why a state is what it is, for the badge's tooltip.
EXPLANATIONS = {
    Health.NEEDS_REAUTHORIZATION: _("The provider no longer accepts the stored authorization: click Regenerate."),
    Health.RENEWAL_FAILING: _(
        "Renewing the token fails for now (the provider did not answer, or answered with an error); it is retried."
    ),
    Health.EXPIRED: _("The token has expired and was not renewed yet: Test Connection renews it if it can."),
    Health.TEST_FAILED: _("The last Test Connection failed, after the last authorization and settings change."),
    Health.AUTHORIZED: _("A valid token is stored."),
    Health.READY: _("Tokens are fetched when needed (client credentials)."),
    Health.NOT_AUTHORIZED: _("No token yet: click Generate."),
}


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


def _knows(model, field_name):
    return any(field.name == field_name for field in model._meta.get_fields())


# -- the rules, each as a test of one connection and as a database condition -----------------


def _test_is_current(connection):
    """A failed test speaks for the connection only if no authorization and no settings change
    came after it."""
    tested = connection.last_test_at
    if tested is None:
        return False
    obtained, changed = connection.token_obtained_at, getattr(connection, "settings_changed_at", None)
    return (obtained is None or tested >= obtained) and (changed is None or tested >= changed)


def health_of(connection, now=None) -> HealthState:
    """The one health of a connection, from its stored facts (no query, no partner call)."""
    now = now or timezone.now()
    has_token = connection.token_expires_at is not None
    if connection.status == Status.NEEDS_REAUTHORIZATION:
        return HealthState(Health.NEEDS_REAUTHORIZATION)
    if getattr(connection, "renewal_failing_since", None):
        return HealthState(Health.RENEWAL_FAILING)
    if has_token and connection.token_expires_at <= now and not _is_on_demand(connection):
        return HealthState(Health.EXPIRED)
    if connection.last_test_passed is False and _test_is_current(connection):
        return HealthState(Health.TEST_FAILED)
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
    rules = [(Health.NEEDS_REAUTHORIZATION, Q(status=Status.NEEDS_REAUTHORIZATION))]
    if _knows(model, "renewal_failing_since"):
        rules.append((Health.RENEWAL_FAILING, Q(renewal_failing_since__isnull=False)))
    rules += [
        (Health.EXPIRED, has_token & Q(token_expires_at__lte=now) & ~on_demand),
        (Health.TEST_FAILED, Q(last_test_passed=False) & test_current),
        (Health.READY, on_demand),
        (Health.AUTHORIZED, has_token),
    ]
    return rules


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
