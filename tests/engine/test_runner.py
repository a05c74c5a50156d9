"""The concurrent bulk test (connectors/engine/runner.py) against real servers: results in input order,
outcomes recorded, tests really run at once, and no database connection left open by a worker."""

import threading
import time

import pytest
from django.db import connections as db_connections
from django.db.backends.signals import connection_created

from connectors.engine import runner
from connectors.models import Connection
from tests.connections import make_hypatos, make_invenias
from tests.slow_partner import SlowPartner

# transaction=True: the worker threads use their own database connections, which would not see
# rows created inside the test's (never committed) transaction.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]


def test_results_in_input_order_and_recorded(auth_server, django_user_model):
    user = django_user_model.objects.create_user("ops", is_staff=True)
    good = make_hypatos(auth_server, name="good")
    bad = make_hypatos(auth_server, name="bad", client_secret="wrong-secret")
    other = make_invenias(auth_server, name="other")
    # Base-class rows, as the overview's queryset hands them over.
    given = list(Connection.objects.filter(pk__in=[bad.pk, other.pk, good.pk]).order_by("-name"))
    results = runner.test_connections(given, user=user, workers=3)
    assert [connection.pk for connection, _ in results] == [connection.pk for connection in given]
    outcome = {connection.name: result for connection, result in results}
    assert outcome["good"].passed and outcome["other"].passed
    assert not outcome["bad"].passed and outcome["bad"].step == "token"
    bad.refresh_from_db()
    assert bad.last_test_passed is False and bad.last_test_message.startswith("Failed at the token step")
    assert bad.events.get(action="test failed").user == user


def test_runs_concurrently_within_the_bound(auth_server):
    # Each test makes two requests (token, probe) answered after 0.5 s: one second per test.
    # 6 tests on 3 workers take two rounds; sequential would be 6 s, unbounded 1 s.
    with SlowPartner(delay=0.5) as partner:
        created = [
            make_hypatos(auth_server, name=f"slow {n}", endpoint_url=partner.endpoint, token_url=partner.token_url)
            for n in range(6)
        ]
        started = time.monotonic()
        results = runner.test_connections(created, workers=3)
        elapsed = time.monotonic() - started
        assert partner.count == 12
    assert all(result.passed for _, result in results), results
    assert 1.9 < elapsed < 4.5, elapsed


def test_worker_threads_close_their_database_connections(auth_server, monkeypatch):
    created = [make_hypatos(auth_server, name=f"c{n}") for n in range(4)]
    opened, closed = [], []

    def remember(sender, connection, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            opened.append(connection)

    # Django deliberately ignores close() on an in-memory SQLite database (closing would destroy
    # it), so record the close requests too; on a real server the socket must be gone.
    wrapper_class = type(db_connections["default"])
    real_close = wrapper_class.close

    def close(wrapper):
        closed.append(wrapper)
        return real_close(wrapper)

    monkeypatch.setattr(wrapper_class, "close", close)
    connection_created.connect(remember)
    try:
        results = runner.test_connections(created, workers=4)
    finally:
        connection_created.disconnect(remember)
    assert all(result.passed for _, result in results)
    assert opened, "the workers should have used the database"
    for wrapper in opened:
        assert any(wrapper is each for each in closed)
        assert wrapper.connection is None or (wrapper.vendor == "sqlite" and wrapper.is_in_memory_db())


def test_nothing_to_test():
    assert runner.test_connections([]) == []
