"""The bulk test: many connections tested at once by a bounded pool of threads.

Used by the admin's "Test selected connections" action and the `test_connections` command, so
both behave the same. Each test spends its time waiting on a partner (bounded by HTTP_TIMEOUT),
so threads cut the wall time to roughly that of the slowest tests, while the bound
(TEST_WORKERS) keeps one run from opening a socket and a database connection per connection.
"""
from concurrent.futures import ThreadPoolExecutor

from django.db import connections as db_connections

from . import diagnostics
from .app_settings import app_settings


def _test_one(connection, user):
    # Each worker thread gets its own database connection from Django; close it when the test
    # is done so a long-running process (gunicorn, cron) does not collect idle connections
    # — one per thread the pool ever ran.
    try:
        return diagnostics.run_test(connection.specific, record=True, user=user)
    finally:
        db_connections.close_all()


def test_connections(connections, *, user=None, workers=None):
    """Test each connection (recording the outcome on it, as Test Connection does) and return
    [(connection, TestResult), ...] in the order given.

    `connections` is any iterable of Connection (base or provider model); `workers` defaults to
    PARTNER_CONNECTIONS["TEST_WORKERS"].
    """
    connections = list(connections)
    if not connections:
        return []
    workers = max(1, min(workers or app_settings.TEST_WORKERS, len(connections)))
    # Resolve the provider model here, in the caller's thread: `.specific` may query, and doing
    # it up front keeps the workers' queries to the test itself.
    specific = [connection.specific for connection in connections]
    if workers == 1:
        # One worker: run in the caller's thread and on its database connection (which must stay
        # open), so TEST_WORKERS=1 also works inside a caller's open transaction.
        results = [diagnostics.run_test(connection, record=True, user=user) for connection in specific]
        return list(zip(connections, results))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="connection-test") as pool:
        results = list(pool.map(lambda connection: _test_one(connection, user), specific))
    return list(zip(connections, results))
