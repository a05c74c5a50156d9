"""Generate / Regenerate: starting an authorization, and storing or refusing what comes back.

The one place that owns this flow (as allauth's oauth2 views do); the admin button and the
callback view only call it and show its sentences. A failure never touches the stored token.
"""

from . import events, failures, oauth, state, tokens
from .callback import callback_url
from .display import expiry_in_words


def authorization_redirect(request, connection):
    """Authorization code: the provider's login URL (PKCE S256, a single-use state kept in the
    session). Raises OAuthFailure when the authorization URL is not allowed."""
    verifier = oauth.new_pkce_verifier()
    issued = state.issue(request, connection, verifier)
    url = oauth.authorization_url(connection, callback_url(), issued, verifier)
    events.record(connection, "authorize started", request.user)
    return url


def exchange_code(connection, code, verifier, user):
    """The callback's half: exchange the code; returns (succeeded, sentence)."""
    try:
        token = oauth.exchange_code(connection, code, verifier, callback_url())
    except failures.OAuthFailure as failure:
        return False, refused(connection, user, f"Authorization failed: {failure.message}")
    return True, authorized(connection, token, user)


def password_token(connection, user):
    """Password grant: a token at once with the stored credentials; returns (succeeded, sentence)."""
    try:
        token = oauth.password_grant(connection)
    except failures.OAuthFailure as failure:
        return False, refused(connection, user, f"No token: {failure.message}")
    return True, authorized(connection, token, user)


def authorized(connection, token, user):
    tokens.store_token(connection, token, new_authorization=True)
    connection.save(update_fields=tokens.TOKEN_FIELDS)
    events.record(connection, "authorized", user)
    return f"Authorized: the token expires {expiry_in_words(connection)}."


def refused(connection, user, sentence):
    events.record(connection, "authorize failed", user, succeeded=False, detail=sentence)
    return sentence + (" The previous token is kept." if connection.has_token else "")
