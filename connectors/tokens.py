"""The token lifecycle: a valid access token on demand, renewed shortly before it expires under a
row lock so that many processes renew once.

Renewal: authorization code refreshes with the refresh token (an `invalid_grant` answer marks the
connection "needs reauthorization"); password and client credentials simply ask again. A failed
renewal (timeout, 5xx, …) keeps the stored tokens and records the failure.
"""

from datetime import timedelta
from typing import TYPE_CHECKING

import requests
from django.db import transaction
from django.utils import timezone

from . import events, failures, oauth, validators
from .app_settings import app_settings
from .models import Status
from .providers.base import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD

if TYPE_CHECKING:
    from .models import Connection

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


def needs_renewal(connection, now=None, margin=None):
    """True when there is no token or it expires within `margin` seconds (default
    REFRESH_MARGIN_SECONDS; the refresh_tokens command passes its own, wider window)."""
    return not is_fresh(connection.access_token, connection.token_expires_at, now, margin)


def is_fresh(access_token, expires_at, now=None, margin=None):
    if not access_token or expires_at is None:
        return False
    margin = timedelta(seconds=app_settings.REFRESH_MARGIN_SECONDS if margin is None else margin)
    return expires_at - margin > (now or timezone.now())


def fetch_new_token(connection):
    """A fresh token by the connection's own grant, without a refresh token (not saved)."""
    grant = connection.provider_info.grant
    if grant == PASSWORD:
        return oauth.password_grant(connection)
    if grant == CLIENT_CREDENTIALS:
        return oauth.client_credentials(connection)
    raise not_authorized(connection)


def not_authorized(connection):
    if connection.status == Status.NEEDS_REAUTHORIZATION:
        reason = connection.status_reason or "The provider no longer accepts the stored authorization."
        return failures.OAuthFailure("needs_reauthorization", f"{reason.rstrip('.')}: click Regenerate.")
    if connection.has_token:
        return failures.OAuthFailure(
            "needs_reauthorization", "The token has expired and there is no refresh token: click Regenerate."
        )
    return failures.OAuthFailure("not_authorized", "Not authorized yet: click Generate.")


def _renew(connection):
    if connection.provider_info.grant == AUTHORIZATION_CODE:
        if not connection.refresh_token:
            raise not_authorized(connection)
        return oauth.refresh(connection), "refreshed"
    return fetch_new_token(connection), "token requested"


# Why a connection needs reauthorization after `invalid_grant`, by grant: the operator fixes
# the cause, then clicks Regenerate.
DEAD_GRANT_REASONS = {
    AUTHORIZATION_CODE: "The provider no longer accepts the refresh token.",
    PASSWORD: "The provider refused the stored username or password.",
}


def _record_failure(connection, failure):
    grant = connection.provider_info.grant
    if failure.kind == "invalid_grant" and grant in DEAD_GRANT_REASONS:
        # The grant is dead: drop the refresh token so nothing retries it, and say what to do.
        connection.refresh_token = ""
        connection.status = Status.NEEDS_REAUTHORIZATION
        connection.status_reason = DEAD_GRANT_REASONS[grant]
        connection.save(update_fields=TOKEN_FIELDS)
    action = "refresh failed" if grant == AUTHORIZATION_CODE else "token request failed"
    events.record(connection, action, succeeded=False, detail=failure.message)


def _hosts_differ(connection, stored):
    if type(connection) is not type(stored):
        return False  # a base Connection is only ever read from the database, never edited
    return any(
        # Another scheme, host or effective port is another place: the stored tokens stay home.
        validators.origin_of(getattr(connection, name)) != validators.origin_of(getattr(stored, name))
        for name in connection.provider_info.url_fields
    )


def _margin(connection, margin, force, asked_at):
    """The renewal margin; forced, one that renews a token obtained before `asked_at` and treats
    one obtained since as fresh (another caller's forced renewal already did the work)."""
    if not force:
        return margin
    obtained = connection.token_obtained_at
    if obtained is None or obtained < asked_at:
        return 2 * MAX_LIFETIME_SECONDS  # longer than any token lives: renew
    return margin


def get_access_token(connection: "Connection", *, margin: int | None = None, force: bool = False) -> str:
    """A valid access token for the connection, renewed when it expires within the margin
    (seconds; default REFRESH_MARGIN_SECONDS), or in any case with force=True.

    The renewal happens under `select_for_update` and re-reads the row inside the lock: callers
    that waited find the token another process just stored and make no request of their own. A
    forced renewal counts as done by a token obtained after the call began, so many callers forcing
    at once still renew once.
    """
    asked_at = timezone.now()
    if not needs_renewal(connection, margin=_margin(connection, margin, force, asked_at)):
        return connection.access_token
    model = type(connection.specific)
    failure = None
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=connection.pk)
        if _hosts_differ(connection, locked):
            # An unsaved copy pointing elsewhere (Test Connection of an edited form): the stored
            # tokens belong to the saved hosts and are never sent anywhere else.
            raise failures.OAuthFailure(
                "not_authorized", "A URL now points at another host or port: save, then click Regenerate."
            )
        if needs_renewal(locked, margin=_margin(locked, margin, force, asked_at)):
            try:
                token, action = _renew(locked)
            except failures.OAuthFailure as error:
                if error.kind not in ("not_authorized", "needs_reauthorization"):
                    _record_failure(locked, error)
                failure = error
            else:
                store_token(locked, token)
                locked.save(update_fields=TOKEN_FIELDS)
                events.record(locked, action)
    for name in TOKEN_FIELDS:
        setattr(connection, name, getattr(locked, name))
    if failure:
        raise failure
    return connection.access_token


def access_token_for(pk: int) -> str:
    """The valid access token of connection `pk`, for code that holds only the id.

    The hot path is one SELECT of two columns and one decryption, without building a model
    instance; the connection is loaded (and its other secrets decrypted) only for a renewal.
    """
    from .models import Connection

    access_token, expires_at = Connection.objects.values_list("access_token", "token_expires_at").get(pk=pk)
    if is_fresh(access_token, expires_at):
        return access_token
    return get_access_token(Connection.objects.get(pk=pk))


class BearerAuth(requests.auth.AuthBase):
    """requests auth that asks the connection for a valid token on every request."""

    def __init__(self, connection):
        self.connection = connection

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {get_access_token(self.connection)}"
        return request


def session(connection: "Connection") -> requests.Session:
    """A requests.Session sending the connection's valid bearer token, under the same outbound
    policy as token traffic (connectors/http.py): each request's URL must be on one of the
    provider's allowed origins (checked before a token is attached), a total deadline of
    HTTP_TIMEOUT, no redirects followed, answers capped at MAX_RESPONSE_BYTES; a refused or
    failed request raises OAuthFailure."""
    from .http import BoundedSession, origin_url

    http = BoundedSession(destination_check=lambda url: oauth.check_destination(connection, origin_url(url)))
    http.auth = BearerAuth(connection)
    return http
