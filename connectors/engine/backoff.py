"""How long a connection waits after a failed renewal: exponential backoff with jitter.

BACKOFF_FIRST_SECONDS after the first failure, doubled per attempt up to BACKOFF_MAX_SECONDS,
plus up to a quarter more at random so that connections that failed together do not retry
together. A 429's Retry-After is honoured when it asks for longer. Jitter only ever adds: nothing
retries before its backoff step.
"""

import random
from datetime import timedelta

from connectors.core.app_settings import app_settings

# Failures that may pass by themselves: the partner is down, slow, overloaded or limiting us.
TRANSIENT = frozenset(
    {"timeout", "refused", "network", "server_error", "temporarily_unavailable", "rate_limited", "unknown_host"}
)


def step_seconds(attempts):
    """The backoff step after `attempts` failures in a row (without jitter)."""
    first, most = app_settings.BACKOFF_FIRST_SECONDS, app_settings.BACKOFF_MAX_SECONDS
    return min(first * 2 ** max(attempts - 1, 0), most)


def delay(attempts, retry_after=None, rng=random):
    seconds = step_seconds(attempts)
    seconds += rng.uniform(0, seconds / 4)
    if retry_after:
        seconds = max(seconds, retry_after)
    return timedelta(seconds=seconds)


def after_failure(connection, failure, now):
    """The renewal facts to store after a failed renewal of `connection`."""
    attempts = connection.renewal_attempts + 1
    return {
        "renewal_failing_since": connection.renewal_failing_since or now,
        "renewal_attempts": attempts,
        "next_renewal_at": now + delay(attempts, getattr(failure, "retry_after", None)),
    }
