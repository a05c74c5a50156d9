"""The token lifecycle: a valid access token on demand, renewed shortly before it expires under a
claim on the connection's row (connectors/renewal.py) so that many processes renew once.

Renewal: authorization code refreshes with the refresh token (an `invalid_grant` answer marks the
connection "needs reauthorization"); password and client credentials simply ask again. A failed
renewal (timeout, 5xx, …) keeps the stored tokens and records the failure.
"""

import functools
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import requests
from cryptography.fernet import InvalidToken
from django.db import DEFAULT_DB_ALIAS
from django.db import connections as db_connections
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop
from encrypted_model_fields.fields import decrypt_str

from . import failures, oauth, sentences, validators
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


sentences.register(
    {
        "reauthorize_because": gettext_lazy("%(reason)s: click Regenerate."),
        "expired_no_refresh_token": gettext_lazy(
            "The token has expired and there is no refresh token: click Regenerate."
        ),
        "not_authorized": gettext_lazy("Not authorized yet: click Generate."),
        "moved_host": gettext_lazy("A URL now points at another host or port: save, then click Regenerate."),
    }
)


def not_authorized(connection):
    if connection.status == Status.NEEDS_REAUTHORIZATION:
        # The reason is stored as its English msgid (gettext_noop where it is set).
        reason = connection.status_reason or gettext_noop("The provider no longer accepts the stored authorization.")
        return failures.failure(
            "needs_reauthorization", None, "reauthorize_because", reason=sentences.Label(reason, strip=".")
        )
    if connection.has_token:
        return failures.failure("needs_reauthorization", None, "expired_no_refresh_token")
    return failures.failure("not_authorized")


def _renew(connection):
    if connection.provider_info.grant == AUTHORIZATION_CODE:
        if not connection.refresh_token:
            raise not_authorized(connection)
        return oauth.refresh(connection), "refreshed"
    return fetch_new_token(connection), "token requested"


# Why a connection needs reauthorization after `invalid_grant`, by grant: the operator fixes
# the cause, then clicks Regenerate.
DEAD_GRANT_REASONS = {
    AUTHORIZATION_CODE: gettext_noop("The provider no longer accepts the refresh token."),
    PASSWORD: gettext_noop("The provider refused the stored username or password."),
}


def _hosts_differ(connection, stored):
    if type(connection) is not type(stored):
        return False  # a base Connection is only ever read from the database, never edited
    return any(
        # Another scheme, host or effective port is another place: the stored tokens stay home.
        validators.origin_of(getattr(connection, name)) != validators.origin_of(getattr(stored, name))
        for name in connection.provider_info.url_fields
    )


def get_access_token(connection: "Connection", *, margin: float | None = None, force: bool = False) -> str:
    """A valid access token for the connection, renewed when it expires within the margin
    (seconds; default REFRESH_MARGIN_SECONDS), or renewed now with force=True (unless another
    caller renewed it since this call began).

    The renewal runs under a claim on the connection's row, never inside a transaction
    (connectors/renewal.py): callers that waited find the token another process just stored and
    make no request of their own. While renewals are backing off after failures, callers get the
    stored token as long as it is valid, and a sentence saying when the next try is after that.
    """
    if not force and not needs_renewal(connection, margin=margin):
        return connection.access_token
    from . import renewal

    asked_at = timezone.now()

    def is_due(stored, now):
        if force:
            return stored.token_obtained_at is None or stored.token_obtained_at < asked_at
        return needs_renewal(stored, now, margin)

    return renewal.renew(connection, is_due=is_due, honour_backoff=not force)


def access_token_for(pk: int) -> str:
    """The valid access token of connection `pk`, for code that holds only the id.

    The hot path is the physical floor: one DB-API query of two columns and one decryption with
    the encrypted fields' own crypter, without ORM query building or a model instance (those
    cost four times the query itself). The connection is loaded (and its other secrets
    decrypted) only to renew.
    """
    access_token, expires_at = _token_columns(pk)
    margin = timedelta(seconds=app_settings.REFRESH_MARGIN_SECONDS)
    if access_token and expires_at is not None and expires_at - margin > datetime.now(UTC):
        try:
            return decrypt_str(access_token)
        except InvalidToken:
            pass  # not readable with the configured keys: the slow path says why
    from .models import Connection

    return get_access_token(Connection.objects.get(pk=pk))


class _ThisThread(threading.local):
    handler_state = None
    database = None


_this_thread = _ThisThread()


def _default_database():
    """Django's default DatabaseWrapper of this thread, remembered per thread (Django's own
    lookup costs as much as a tenth of the hot path); looked up again when Django replaces its
    wrappers (a change of DATABASES)."""
    state = db_connections._connections
    if _this_thread.handler_state is not state:
        _this_thread.database = db_connections[DEFAULT_DB_ALIAS]
        _this_thread.handler_state = state
    return _this_thread.database


def _token_columns(pk):
    """(encrypted access token, expiry) of connection `pk`, or (None, None)."""
    database = _default_database()
    sql, driver_sql = _hot_path_sql(database.vendor)
    raw = database.connection
    if raw is None or driver_sql is None or database.queries_logged or database.in_atomic_block:
        # Not connected yet, DEBUG or a test counting queries, or inside a transaction (where
        # Django tracks the connection's state): through Django's cursor.
        with database.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
    else:
        cursor = raw.cursor()
        try:
            cursor.execute(driver_sql, (pk,))
            row = cursor.fetchone()
        finally:
            cursor.close()
    if row is None:
        return None, None
    expires_at = row[1]
    if isinstance(expires_at, str):
        expires_at = datetime.fromisoformat(expires_at)
    if expires_at is not None and expires_at.tzinfo is None:  # SQLite keeps naive UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return row[0], expires_at


# The DB-API's own placeholder, for the backends whose raw driver the hot path talks to.
_PLACEHOLDERS = {"sqlite": "?", "postgresql": "%s"}


@functools.cache
def _hot_path_sql(vendor):
    from .models import Connection

    quote = db_connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = Connection._meta
    sql = (
        f"SELECT {quote(meta.get_field('access_token').column)}, "
        f"{quote(meta.get_field('token_expires_at').column)} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    placeholder = _PLACEHOLDERS.get(vendor)
    return sql, (sql.replace("%s", placeholder) if placeholder else None)


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
