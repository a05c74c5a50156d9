"""How token state and test results read to a person: badges and expiry in words."""

import hashlib

from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from .health import Health, health_of


def expiry_in_words(connection, now=None):
    if not connection.has_token or connection.token_expires_at is None:
        return "no token"
    now = now or timezone.now()
    if connection.token_expires_at <= now:
        return "expired"
    return f"in {timeuntil(connection.token_expires_at, now, depth=1)}"


def status_text(connection, now=None):
    """The badge's words and tone, from the connection's one health (connectors/health.py)."""
    state = health_of(connection, now)
    if state.code == Health.AUTHORIZED:
        return f"{state.label} (expires {expiry_in_words(connection, now)})", state.tone
    if state.code == Health.READY:
        return f"{state.label} (token on demand)", state.tone
    return str(state.label), state.tone


def status_badge(connection, now=None):
    text, tone = status_text(connection, now)
    return format_html('<span class="pc-badge pc-badge--{}">{}</span>', tone, text)


def last_test_cell(connection, now=None):
    """The outcome and how long ago, as a badge; the stored sentence is the tooltip."""
    if connection.last_test_at is None:
        return format_html('<span class="pc-badge pc-badge--muted">{}</span>', "never tested")
    outcome, tone = ("passed", "ok") if connection.last_test_passed else ("failed", "danger")
    now = now or timezone.now()
    recent = (now - connection.last_test_at).total_seconds() < 60
    ago = "just now" if recent else f"{timesince(connection.last_test_at, now, depth=1)} ago"
    return format_html(
        '<span class="pc-badge pc-badge--{}" title="{}">{}</span> <span class="pc-when">{}</span>',
        tone,
        connection.last_test_message,
        outcome,
        ago,
    )


def fingerprint(token):
    """A short, non-reversible label to tell tokens apart without showing them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]


def token_summary(connection):
    if not connection.has_token:
        reason = f" {connection.status_reason}" if connection.status_reason else ""
        return f"No token.{reason}"
    parts = [f"Fingerprint {fingerprint(connection.access_token)}"]
    if connection.token_obtained_at:
        parts.append(f"obtained {timezone.localtime(connection.token_obtained_at):%Y-%m-%d %H:%M}")
    parts.append(f"expires {expiry_in_words(connection)}")
    parts.append("refresh token stored" if connection.refresh_token else "no refresh token")
    if connection.status_reason:
        parts.append(connection.status_reason)
    return "; ".join(parts) + "."
