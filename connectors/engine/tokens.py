"""The token lifecycle: a valid access token on demand, renewed shortly before it expires under a
claim on the connection's row (connectors/engine/renewal.py) so that many processes renew once.

How a token is renewed is the connection's grant strategy's (connectors/grants): authorization
code refreshes with the refresh token, password and client credentials simply ask again. A failed
renewal (timeout, 5xx, …) keeps the stored tokens and records the failure.
"""

import functools
import threading
from datetime import UTC, datetime, timedelta

import requests
from cryptography.fernet import InvalidToken
from django.db import DEFAULT_DB_ALIAS
from django.db import connections as db_connections
from django.utils import timezone
from encrypted_model_fields.fields import decrypt_str

from connectors.core import failures
from connectors.core.app_settings import app_settings

# The token state and its transitions live in connectors/core/token_state.py; these names stay
# importable from here for callers of the token API.
from connectors.core.token_state import MAX_LIFETIME_SECONDS, TOKEN_FIELDS, is_fresh, needs_renewal, store_token
from connectors.engine import renewal
from connectors.models import Connection
from connectors.partners import oauth
from connectors.partners.http import BoundedSession, origin_url
from connectors.store import policy

__all__ = [
    "MAX_LIFETIME_SECONDS",
    "TOKEN_FIELDS",
    "access_token_for",
    "get_access_token",
    "is_fresh",
    "needs_renewal",
    "session",
    "store_token",
]


def get_access_token(
    connection: Connection, *, margin: float | None = None, force: bool = False, honour_cooldown: bool = False
) -> str:
    """A valid access token for the connection, renewed when it expires within the margin
    (seconds; default REFRESH_MARGIN_SECONDS), or renewed now with force=True (unless another
    caller renewed it since this call began).

    The renewal runs under a claim on the connection's row, never inside a transaction
    (connectors/engine/renewal.py): callers that waited find the token another process just stored and
    make no request of their own. While renewals are backing off after failures, callers get the
    stored token as long as it is valid, and a sentence saying when the next try is after that.
    """
    if not force and not needs_renewal(connection, margin=margin):
        return connection.access_token
    asked_at = timezone.now()

    def is_due(stored, now):
        if force:
            return stored.token_obtained_at is None or stored.token_obtained_at < asked_at
        return needs_renewal(stored, now, margin)

    # A forced renewal ignores the backoff (Test Connection: the operator asks now), unless the
    # caller honours the partner's cooldown (the API's force_refresh): then a forced renewal while
    # renewals back off (after a 429, at least its Retry-After) is refused with the next try's time.
    return renewal.renew(
        connection,
        is_due=is_due,
        honour_backoff=honour_cooldown or not force,
        refuse_while_waiting=force and honour_cooldown,
    )


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


def session(connection: Connection) -> requests.Session:
    """A requests.Session sending the connection's valid bearer token, under the same outbound
    policy as token traffic (connectors/partners/http.py): each request's URL must be on one of the
    provider's allowed origins and one of the connection's own origins, its API base or its test
    request (connectors/store/policy.py; checked before a token is fetched or attached), a total
    deadline of HTTP_TIMEOUT, no redirects followed, answers capped at MAX_RESPONSE_BYTES; a
    refused or failed request raises OAuthFailure."""

    def destination_check(url):
        oauth.check_destination(connection, origin_url(url))
        if not policy.may_carry_token(connection, url):
            # Another partner's sandbox on EXTRA_ALLOWED_HOSTS, or another port of the
            # connection's own host: allowed for some connection, not for this one's token.
            raise failures.not_own_origin(url)

    http = BoundedSession(destination_check=destination_check)
    http.auth = BearerAuth(connection)
    return http
