"""Single-use OAuth `state` values, kept in the operator's session.

A state is bound to the session (it lives there), to the user who started the authorization, to
the connection (its id is part of the value and stored with it) and to the redirect URI and
authorization server the flow was started with; it expires after STATE_MAX_AGE_SECONDS and is
removed on first use, whatever the outcome.

The mix-up defence (RFC 9700 §4.4, RFC 9207): the answer must arrive at the callback URL of the
connection the state was issued for, and an `iss` in it must name that connection's
authorization server (an `iss` is required when the server advertises that it sends one).
"""

import secrets
import time
from typing import NamedTuple

from django.utils.translation import gettext as _

from connectors.core.app_settings import app_settings
from connectors.core.callback import callback_url

SESSION_KEY = "partner_connections_oauth"


class StateError(Exception):
    """The callback's state is unusable; the message says why, in the operator's words.
    `connection` is the id of the connection the state was issued for, when it is known."""

    def __init__(self, message, connection=None):
        super().__init__(message)
        self.connection = connection


class Flow(NamedTuple):
    """What the callback needs to finish the authorization the state was issued for."""

    connection: int
    verifier: str
    redirect_uri: str | None


def _live_states(request, now):
    states = request.session.get(SESSION_KEY, {})
    max_age = app_settings.STATE_MAX_AGE_SECONDS
    return {key: value for key, value in states.items() if now - value["issued_at"] <= max_age}


def issue(request, connection, verifier, redirect_uri=None, issuer=None, issuer_required=False):
    now = time.time()
    # The connection id in the value only helps reading logs; the record below is what counts.
    state = f"{connection.pk}.{secrets.token_urlsafe(32)}"
    states = _live_states(request, now)
    states[state] = {
        "connection": connection.pk,
        "user": request.user.pk,
        "verifier": verifier,
        "issued_at": now,
        "redirect_uri": redirect_uri,
        "issuer": issuer,
        "issuer_required": issuer_required,
    }
    request.session[SESSION_KEY] = states
    return state


def consume(request, state, connection_id=None, iss=None):
    """Remove the state from the session and return its Flow, or raise StateError.

    `connection_id` is the id in the callback URL the answer arrived at (None for the shared
    URL); `iss` the answer's issuer parameter, if any."""
    if not state:
        raise StateError(_("The answer from the provider had no state: start again with Generate."))
    states = request.session.get(SESSION_KEY, {})
    record = states.pop(state, None)
    request.session[SESSION_KEY] = states
    if record is None:
        raise StateError(
            _(
                "This authorization answer is unknown, was already used, or belongs to another browser "
                "session: start again with Generate."
            )
        )
    try:
        _check(record, request, connection_id, iss)
    except StateError as refused:
        refused.connection = record["connection"]
        raise
    # The connection comes from the stored record, never from the request: an answer can only
    # ever complete the authorization it was issued for.
    return Flow(record["connection"], record["verifier"], record.get("redirect_uri"))


def _check(record, request, connection_id, iss):
    if time.time() - record["issued_at"] > app_settings.STATE_MAX_AGE_SECONDS:
        raise StateError(_("The authorization took too long and expired: start again with Generate."))
    if record["user"] != request.user.pk:
        raise StateError(_("This authorization was started by another user: start again with Generate."))
    _check_mix_up(record, connection_id, iss)


def _check_mix_up(record, connection_id, iss):
    # Flows started before per-connection callback URLs (or with the shared one) have none of their own.
    issued_with_own_url = record.get("redirect_uri") not in (None, callback_url())
    if connection_id is not None and connection_id != record["connection"]:
        raise StateError(
            _(
                "This answer arrived at another connection's callback URL (a mix-up of authorization "
                "servers): nothing was exchanged; start again with Generate."
            )
        )
    if connection_id is None and issued_with_own_url:
        raise StateError(
            _(
                "This answer arrived at the shared callback URL, not at the connection's own: nothing was "
                "exchanged; check the redirect URL registered at the provider, then start again with Generate."
            )
        )
    expected = record.get("issuer")
    if iss is not None and expected and iss != expected:
        raise StateError(
            _(
                "The answer names another authorization server (iss) than this connection's: nothing was "
                "exchanged; start again with Generate, and check the connection's URLs."
            )
        )
    if iss is None and record.get("issuer_required"):
        raise StateError(
            _(
                "The authorization server advertises that its answers name it (iss), but this one did not: "
                "nothing was exchanged; start again with Generate."
            )
        )
