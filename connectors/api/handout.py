"""The hot path of a token handout: one query finds the API key and reads the connection's token
columns and whether the key may see it; one insert records the handout. No ORM query building and
no model instance on the way (they cost several times the queries themselves; the figures are in
docs/api.md, Speed).

Anything off the common case (a token to renew, a connection the key may not see, a key that is
not valid) leaves with what it found, and the caller takes the ordinary paths, which say why.
"""

import functools
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.fernet import InvalidToken
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db import connections as db_connections
from encrypted_model_fields.fields import decrypt_str

from connectors.core.sentences import Sentence
from connectors.models import ApiKey, Connection, Event
from connectors.store import apikeys

HANDED_OUT = "token handed out"
logger = logging.getLogger("connectors.api")


@dataclass(frozen=True)
class Found:
    """What the one query found; `problem` names why the key is refused ("" when it is valid)."""

    problem: str
    key_id: int | None = None
    key_name: str = ""
    may_obtain_tokens: bool = False
    may_proxy: bool = False
    proxy_methods: tuple = ()
    provider: str = ""
    last_used_at: datetime | None = None
    visible: bool = False
    access_token: str | None = None  # still encrypted
    expires_at: datetime | None = None
    token_type: str = ""
    scope: str = ""

    @property
    def pk(self):
        """The key's id (the rate limit counts per key)."""
        return self.key_id


def find(raw_key, connection_id, now):
    """The key behind `raw_key` and connection `connection_id`'s token, in one query."""
    prefix = apikeys.prefix_of(raw_key)
    row = _fetch_one(_handout_sql(), (connection_id, prefix)) if prefix else None
    # As apikeys.check: a hash is computed and compared even without a row (constant timing).
    candidate = apikeys.hash_key(raw_key)
    if row is None or not hmac.compare_digest(candidate, row[1]):
        return Found(problem="invalid")
    key_id, _hash, revoked_at, key_expires_at, last_used_at, may_obtain, name, providers, may_proxy, methods = row[:10]
    if revoked_at is not None:
        return Found(problem="revoked")
    key_expires_at = _datetime(key_expires_at)
    if key_expires_at is not None and key_expires_at <= now:
        return Found(problem="expired")
    connection_pk, provider, access_token, expires_at, token_type, scope, linked = row[10:]
    providers, methods = (json.loads(value) if isinstance(value, str) else value for value in (providers, methods))
    visible = connection_pk is not None and (bool(linked) or provider in (providers or []))
    return Found(
        problem="",
        key_id=key_id,
        key_name=name,
        may_obtain_tokens=bool(may_obtain),
        may_proxy=bool(may_proxy),
        proxy_methods=tuple(methods or ()),
        provider=provider or "",
        last_used_at=_datetime(last_used_at),
        visible=visible,
        access_token=access_token,
        expires_at=_datetime(expires_at),
        token_type=token_type,
        scope=scope,
    )


def fresh_token(found, margin_seconds, now):
    """The decrypted access token when it is valid for `margin_seconds` more, else None."""
    if not found.access_token or found.expires_at is None:
        return None
    if found.expires_at - timedelta(seconds=margin_seconds) <= now:
        return None
    try:
        return decrypt_str(found.access_token)
    except InvalidToken:
        return None  # not readable with the configured keys: the ordinary path says why


def record(connection_id, key_id, key_name, last_used_at, now):
    """The handout's event, and the key's last use when it is due (at most once a minute), in one
    transaction: a handout is never answered without its durable record."""
    detail = Sentence("token_handed_out", name=key_name)
    stored = detail.to_json()
    text = f"to API key “{key_name}”"[:500]
    database = db_connections[DEFAULT_DB_ALIAS]
    insert, update = _write_sql()
    params = (connection_id, now, HANDED_OUT, True, text, stored["code"], json.dumps(stored["params"]))
    due = last_used_at is None or now - last_used_at >= apikeys.LAST_USED_PRECISION
    with transaction.atomic() if due else _nothing():
        with database.cursor() as cursor:
            cursor.execute(insert, _adapt(database, params))
            if due:
                cursor.execute(update, _adapt(database, (now, key_id)))
    # DEBUG, not INFO: a line per handout would cost more than the handout (the event is the record).
    logger.debug("connection %s %s: %s", connection_id, HANDED_OUT, text)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def mark_used(found, now):
    """The key's last use, when due (at most once a minute): for calls that record no handout."""
    if found.last_used_at is None or now - found.last_used_at >= apikeys.LAST_USED_PRECISION:
        database = db_connections[DEFAULT_DB_ALIAS]
        with database.cursor() as cursor:
            cursor.execute(_write_sql()[1], _adapt(database, (now, found.key_id)))


def _adapt(database, params):
    ops = database.ops
    return [ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value for value in params]


def _fetch_one(sql, params):
    with db_connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _datetime(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:  # SQLite keeps naive UTC
        value = value.replace(tzinfo=UTC)
    return value


def _names():
    quote = db_connections[DEFAULT_DB_ALIAS].ops.quote_name
    key, connection, event = ApiKey._meta, Connection._meta, Event._meta
    link = ApiKey.connections.through._meta

    def column(meta, name):
        return quote(meta.get_field(name).column)

    return quote, key, connection, event, link, column


@functools.cache
def _handout_sql():
    quote, key, connection, _event, link, column = _names()
    key_columns = ("id", "key_hash", "revoked_at", "expires_at", "last_used_at", "may_obtain_tokens", "name")
    connection_columns = ("id", "provider", "access_token", "token_expires_at", "token_type", "token_scope")
    k, c, m = quote(key.db_table), quote(connection.db_table), quote(link.db_table)
    return (
        "SELECT "
        + ", ".join(f"{k}.{column(key, name)}" for name in key_columns)
        + f", {k}.{column(key, 'providers')}, {k}.{column(key, 'may_proxy')}, {k}.{column(key, 'proxy_methods')}, "
        + ", ".join(f"{c}.{column(connection, name)}" for name in connection_columns)
        + f", EXISTS (SELECT 1 FROM {m} WHERE {m}.{column(link, 'apikey')} = {k}.{column(key, 'id')}"
        f" AND {m}.{column(link, 'connection')} = {c}.{column(connection, 'id')})"
        f" FROM {k} LEFT JOIN {c} ON {c}.{column(connection, 'id')} = %s"
        f" WHERE {k}.{column(key, 'key_prefix')} = %s"
    )


@functools.cache
def _write_sql():
    quote, key, _connection, event, _link, column = _names()
    names = ("connection", "at", "action", "succeeded", "detail", "code", "params")
    insert = (
        f"INSERT INTO {quote(event.db_table)} ({', '.join(column(event, name) for name in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    update = f"UPDATE {quote(key.db_table)} SET {column(key, 'last_used_at')} = %s WHERE {column(key, 'id')} = %s"
    return insert, update
