"""The bulk test: many connections tested at once by a bounded pool of threads.

Used by the admin's "Test selected connections" action and the `test_connections` command, so
both behave the same (the `refresh_tokens` command uses the same pool). Each test spends its time
waiting on a partner (bounded by HTTP_TIMEOUT), so threads cut the wall time to roughly that of
the slowest tests, while the bound (TEST_WORKERS) keeps one run from opening a socket and a
database connection per connection.
"""

import logging
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from django.db import connections as db_connections

from connectors.core.app_settings import app_settings
from connectors.core.sentences import Sentence
from connectors.engine import diagnostics
from connectors.models import Connection
from connectors.partners.providers import PROVIDERS

logger = logging.getLogger("connectors.engine.runner")


def with_provider_fields(queryset=None):
    """Connections with their provider model joined in, so `.specific` costs no query per row."""
    queryset = Connection.objects.all() if queryset is None else queryset
    if queryset.model is not Connection:
        return queryset  # a provider model's rows already hold their own fields
    return queryset.select_related(*(provider.model_name.lower() for provider in PROVIDERS.values()))


def run_concurrently(function, items, *, workers=None):
    """[function(item) for item in items], on up to `workers` threads (default TEST_WORKERS), in
    the order given. With one worker everything runs in the caller's thread and on its database
    connection (which must stay open), so TEST_WORKERS=1 also works inside an open transaction."""
    items = list(items)
    if not items:
        return []
    workers = max(1, min(workers or app_settings.TEST_WORKERS, len(items)))
    if workers == 1:
        return [function(item) for item in items]
    pending = deque(enumerate(items))
    results = [None] * len(items)
    lock = threading.Lock()

    def work():
        # Each thread takes the next item until none is left, on one database connection of its
        # own (Django gives each thread one), closed when the thread is done: a long-running
        # process (the worker, gunicorn) keeps no idle connections, and a run opens one per
        # thread, not one per item (on PostgreSQL each costs a server process).
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    index, item = pending.popleft()
                results[index] = function(item)
        finally:
            db_connections.close_all()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="connections") as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()  # the first error, if any, reaches the caller as with map()
    return results


def _test_one(connection, user):
    """One connection's test; an unexpected error fails this connection, not the whole run."""
    try:
        return diagnostics.run_test(connection, record=True, user=user)
    except Exception as error:  # noqa: BLE001 (the run goes on; the type is logged, not the text)
        logger.error("testing connection %s raised %s", connection.pk, type(error).__name__)
        return diagnostics.TestResult(False, "test", None, 0, Sentence("test_crashed", error=type(error).__name__))


def test_connections(connections, *, user=None, workers=None):
    """Test each connection (recording the outcome on it, as Test Connection does) and return
    [(connection, TestResult), ...] in the order given.

    `connections` is any iterable of Connection (base or provider model); `workers` defaults to
    PARTNER_CONNECTIONS["TEST_WORKERS"].
    """
    connections = list(connections)
    # Resolve the provider model here, in the caller's thread: `.specific` may query, and doing
    # it up front keeps the workers' queries to the test itself.
    specific = [connection.specific for connection in connections]
    results = run_concurrently(lambda connection: _test_one(connection, user), specific, workers=workers)
    return list(zip(connections, results, strict=True))


# Not a test, despite the name: pytest would collect it from any test module that imports it.
test_connections.__test__ = False  # type: ignore[attr-defined]
