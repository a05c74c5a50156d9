"""One health per connection, derived in one place from its facts.

Badges, the status filter, the index banner, the API and alerts all read `health_of()`; nothing
else decides what state a connection is in. Precedence, first match wins:

1. needs reauthorization: the provider refused the stored authorization (invalid_grant), or the
   token expired with no way to renew it; only the operator's Regenerate helps.
2. renewal failing: renewals fail for a passing reason (timeout, 5xx, 429); the token may still
   be valid, but will not stay so.
3. expired: the token is past its expiry and nobody renewed it yet.
4. last test failed: the last Test Connection failed, and it ran after the last authorization
   (a newer token or newer settings make an older failure moot).
5. authorized: a valid token is stored; or ready: client credentials, a token is fetched when
   first needed.
6. not authorized: nothing stored yet; Generate is the next step.
"""

from dataclasses import dataclass

from django.db.models import TextChoices
from django.utils import timezone


class Health(TextChoices):
    NEEDS_REAUTHORIZATION = "needs_reauthorization", "needs reauthorization"
    RENEWAL_FAILING = "renewal_failing", "renewal failing"
    EXPIRED = "expired", "expired"
    TEST_FAILED = "test_failed", "last test failed"
    AUTHORIZED = "authorized", "authorized"
    READY = "ready", "ready"
    NOT_AUTHORIZED = "not_authorized", "not authorized"


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


@dataclass(frozen=True)
class HealthState:
    code: Health

    @property
    def label(self):
        return self.code.label

    @property
    def tone(self):
        return TONES[self.code]


def health_of(connection, now=None) -> HealthState:
    """The one health of a connection, from its stored facts (no query, no partner call)."""
    from .models import Status

    now = now or timezone.now()
    if connection.status == Status.NEEDS_REAUTHORIZATION:
        return HealthState(Health.NEEDS_REAUTHORIZATION)
    if getattr(connection, "renewal_failing_since", None):
        return HealthState(Health.RENEWAL_FAILING)
    has_token = bool(connection.access_token)
    if has_token and connection.token_expires_at is not None and connection.token_expires_at <= now:
        return HealthState(Health.EXPIRED)
    if connection.last_test_passed is False and _test_is_current(connection):
        return HealthState(Health.TEST_FAILED)
    if has_token:
        return HealthState(Health.AUTHORIZED)
    if not connection.provider_info.has_generate_button:
        return HealthState(Health.READY)
    return HealthState(Health.NOT_AUTHORIZED)


def _test_is_current(connection):
    """A test outcome speaks for the connection only if no authorization came after it."""
    if connection.last_test_at is None:
        return False
    obtained = connection.token_obtained_at
    return obtained is None or connection.last_test_at >= obtained
