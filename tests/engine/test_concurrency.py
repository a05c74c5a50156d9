"""The token lock across processes: 8 separate processes ask for the same expired token at the
same moment; exactly one token request reaches the authorization server and all get the token it
issued. Runs on SQLite (a file shared by the processes) and, with `make test`, on PostgreSQL.

Without the lock (or on SQLite without BEGIN IMMEDIATE) several processes renew: the count goes
above one, and with a rotating refresh token the server refuses every reuse of the old refresh
token with invalid_grant (tests/authserver does refuse it).
"""

from datetime import timedelta

import pytest
import requests
from django.db import connection as db_connection
from django.utils import timezone

from connectors.core.callback import callback_url
from connectors.engine import tokens
from connectors.models import Connection, Status
from connectors.partners import grants, oauth
from tests.connections import make_hypatos, make_inverbis
from tests.processes import database_url, fingerprint, get_token_in_processes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]

PROCESSES = 8


def authorize_inverbis(server, **fields):
    """An Inverbis connection with tokens from the real authorization-code flow (PKCE)."""
    connection = make_inverbis(server, **fields)
    verifier = oauth.new_pkce_verifier()
    url = oauth.authorization_url(connection, callback_url(), "state-for-test", verifier)
    redirect = server.authorize(url)
    code = dict(part.split("=", 1) for part in redirect.split("?", 1)[1].split("&"))["code"]
    tokens.store_token(connection, grants.of(connection).exchange_code(connection, code, verifier, callback_url()))
    connection.save()
    assert connection.refresh_token
    return connection


def expire(connection):
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now() - timedelta(seconds=1))


def accepted(server, connection, token):
    if connection.provider == "inverbis":
        url = server.inverbis_userinfo_url
    else:
        url = f"{server.hypatos_endpoint}/projects?limit=1"
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200


def test_expired_token_is_requested_once_for_many_processes(auth_server):
    # Client credentials: every process would otherwise ask for a token of its own.
    connection = make_hypatos(auth_server)
    connection.get_access_token()
    expire(connection)
    auth_server.reset_stats()

    outcomes = get_token_in_processes(connection.pk, database_url(db_connection), PROCESSES)

    assert auth_server.stats()["total"] == 1
    connection.refresh_from_db()
    assert outcomes == [{"token": fingerprint(connection.access_token)}] * PROCESSES
    assert connection.token_expires_at > timezone.now() and accepted(auth_server, connection, connection.access_token)


def test_rotating_refresh_token_is_used_once_for_many_processes(auth_server):
    connection = authorize_inverbis(auth_server)
    old_refresh = connection.refresh_token
    expire(connection)
    auth_server.reset_stats()

    outcomes = get_token_in_processes(connection.pk, database_url(db_connection), PROCESSES)

    assert [o for o in outcomes if "error" in o] == []  # no invalid_grant anywhere
    stats = auth_server.stats()
    assert stats["total"] == 1 and stats["by_grant_type"] == {"refresh_token": 1}, stats
    connection.refresh_from_db()
    assert outcomes == [{"token": fingerprint(connection.access_token)}] * PROCESSES
    assert connection.status == Status.AUTHORIZED
    assert connection.refresh_token and connection.refresh_token != old_refresh  # rotated, kept
    assert accepted(auth_server, connection, connection.access_token)
    assert connection.events.filter(action="refreshed").count() == 1


def test_database_is_the_one_configured():
    # The PostgreSQL run must really be on PostgreSQL, not a silent fall back to SQLite.
    import os

    expected = "postgresql" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert db_connection.vendor == expected


def test_access_token_for_an_id(auth_server):
    # The by-id hot path: one query, no request while valid; renews like get_access_token().
    from django.test.utils import CaptureQueriesContext

    from connectors.engine.tokens import access_token_for

    connection = make_hypatos(auth_server)
    token = connection.get_access_token()
    auth_server.reset_stats()
    with CaptureQueriesContext(db_connection) as queries:
        assert access_token_for(connection.pk) == token
    assert len(queries) == 1 and auth_server.stats()["total"] == 0
    expire(connection)
    renewed = access_token_for(connection.pk)
    assert renewed != token and auth_server.stats()["total"] == 1
    connection.refresh_from_db()
    assert connection.access_token == renewed
