"""Single-use OAuth `state` values, kept in the operator's session.

A state is bound to the session (it lives there), to the user who started the authorization, and
to the connection (its id is part of the value and stored with it); it expires after
STATE_MAX_AGE_SECONDS and is removed on first use, whatever the outcome.
"""

import secrets
import time

from .app_settings import app_settings

SESSION_KEY = "partner_connections_oauth"


class StateError(Exception):
    """The callback's state is unusable; the message says why, in the operator's words."""


def _live_states(request, now):
    states = request.session.get(SESSION_KEY, {})
    max_age = app_settings.STATE_MAX_AGE_SECONDS
    return {key: value for key, value in states.items() if now - value["issued_at"] <= max_age}


def issue(request, connection, verifier):
    now = time.time()
    # The connection id in the value only helps reading logs; the record below is what counts.
    state = f"{connection.pk}.{secrets.token_urlsafe(32)}"
    states = _live_states(request, now)
    states[state] = {"connection": connection.pk, "user": request.user.pk, "verifier": verifier, "issued_at": now}
    request.session[SESSION_KEY] = states
    return state


def consume(request, state):
    """Remove the state from the session and return (connection id, PKCE verifier)."""
    if not state:
        raise StateError("The answer from the provider had no state: start again with Generate.")
    states = request.session.get(SESSION_KEY, {})
    record = states.pop(state, None)
    request.session[SESSION_KEY] = states
    if record is None:
        raise StateError(
            "This authorization answer is unknown, was already used, or belongs to another browser "
            "session: start again with Generate."
        )
    if time.time() - record["issued_at"] > app_settings.STATE_MAX_AGE_SECONDS:
        raise StateError("The authorization took too long and expired: start again with Generate.")
    if record["user"] != request.user.pk:
        raise StateError("This authorization was started by another user: start again with Generate.")
    # The connection comes from the stored record, never from the request: an answer can only
    # ever complete the authorization it was issued for.
    return record["connection"], record["verifier"]
