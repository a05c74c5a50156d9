"""A connection's token state and its transitions, in one place: a token answer stored, the
authorization declared dead (only the operator's Regenerate helps), the tokens cleared.

The lowest layer of the token code: it imports no other module of the app, so the models, the
renewal, the grants and the Generate flow all use it without importing one another.
"""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from connectors.core.app_settings import app_settings


class Status(models.TextChoices):
    NOT_AUTHORIZED = "not_authorized", gettext_lazy("Not authorized")
    AUTHORIZED = "authorized", gettext_lazy("Authorized")
    NEEDS_REAUTHORIZATION = "needs_reauthorization", gettext_lazy("Needs reauthorization")


# No partner issues access tokens for longer; a larger expires_in is a broken answer.
MAX_LIFETIME_SECONDS = 366 * 24 * 3600
TOKEN_FIELDS = [
    "access_token",
    "refresh_token",
    "token_type",
    "token_scope",
    "token_obtained_at",
    "token_expires_at",
    "status",
    "status_reason",
    "updated_at",
]


def store_token(connection, token, now=None, *, new_authorization=False):
    """Put a token answer on the connection (not saved). On refresh, a missing refresh token
    keeps the old one; a new authorization replaces it (or clears it: the old one belongs to the
    authorization being replaced). A missing or absurd expires_in gets the short
    DEFAULT_EXPIRES_IN, never "forever"."""
    now = now or timezone.now()
    connection.access_token = token["access_token"]
    if token.get("refresh_token") or new_authorization:
        connection.refresh_token = token.get("refresh_token") or ""
    connection.token_type = str(token.get("token_type", "Bearer"))[:40]
    scope = token.get("scope", "")
    connection.token_scope = (" ".join(scope) if isinstance(scope, (list, tuple)) else str(scope))[:1000]
    try:
        lifetime = int(token.get("expires_in"))
    except (TypeError, ValueError, OverflowError):
        lifetime = app_settings.DEFAULT_EXPIRES_IN
    if not 0 <= lifetime <= MAX_LIFETIME_SECONDS:
        lifetime = app_settings.DEFAULT_EXPIRES_IN
    connection.token_obtained_at = now
    connection.token_expires_at = now + timedelta(seconds=max(lifetime, 0))
    connection.status = Status.AUTHORIZED
    connection.status_reason = ""


def needs_reauthorization(reason):
    """The values a connection stores when only the operator's Regenerate can help: no refresh
    token, no more tries (and a fresh alert episode, connectors/engine/alerts.py)."""
    return {
        "refresh_token": "",
        "status": Status.NEEDS_REAUTHORIZATION,
        "status_reason": str(reason)[:300],
        "next_renewal_at": None,
        "renewal_failing_since": None,
        "renewal_attempts": 0,
        "renewal_alerted_at": None,
        "updated_at": timezone.now(),
    }


def clear(connection, reason=""):
    """No token at all (not saved): what a connection is before its first authorization."""
    connection.access_token = connection.refresh_token = connection.token_type = connection.token_scope = ""
    connection.token_obtained_at = connection.token_expires_at = None
    connection.status = Status.NOT_AUTHORIZED
    connection.status_reason = reason


def is_fresh(access_token, expires_at, now=None, margin=None):
    if not access_token or expires_at is None:
        return False
    margin = timedelta(seconds=app_settings.REFRESH_MARGIN_SECONDS if margin is None else margin)
    return expires_at - margin > (now or timezone.now())


def needs_renewal(connection, now=None, margin=None):
    """True when there is no token or it expires within `margin` seconds (default
    REFRESH_MARGIN_SECONDS; the refresh_tokens command passes its own, wider window)."""
    return not is_fresh(connection.access_token, connection.token_expires_at, now, margin)
