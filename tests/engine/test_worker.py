"""The background worker for real: django-tasks-db's worker (a `manage.py run_worker` process, or
its Worker in the test process) renews tokens nobody asks for, refreshes idle refresh tokens,
runs the periodic tasks, and prunes the event log."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection as db_connection
from django.utils import timezone

from connectors.engine import retention, schedule
from connectors.models import Connection, Event, Status
from tests.connections import make_hypatos
from tests.engine.test_concurrency import accepted, authorize_inverbis
from tests.processes import database_url
from tests.worker import run_ready_tasks, running_worker

# The worker's task claims (SKIP LOCKED on PostgreSQL) run on both databases with `make test`.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database]


def test_a_running_worker_renews_a_token_nobody_asks_for(auth_server):
    connection = authorize_inverbis(auth_server)
    old_token, old_refresh = connection.access_token, connection.refresh_token
    # Its token expires within the margin: due now. Nobody calls get_access_token().
    Connection.objects.filter(pk=connection.pk).update(
        token_expires_at=timezone.now() + timedelta(seconds=60), next_renewal_at=timezone.now()
    )
    auth_server.reset_stats()
    with running_worker(database_url(db_connection)) as process:
        deadline = time.monotonic() + 60
        while Connection.objects.get(pk=connection.pk).access_token == old_token:
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the worker did not renew the token within a minute"
            time.sleep(0.2)  # waiting on another process, not on the clock
    connection.refresh_from_db()
    assert auth_server.stats()["by_grant_type"] == {"refresh_token": 1}
    assert connection.refresh_token != old_refresh and accepted(auth_server, connection, connection.access_token)
    assert connection.events.filter(action="refreshed").count() == 1
    # The fresh token planned its own next renewal, the margin before it expires.
    assert connection.next_renewal_at == connection.token_expires_at - timedelta(seconds=120)


def test_an_idle_refresh_token_is_refreshed_after_refresh_at_least_every(auth_server):
    connection = authorize_inverbis(auth_server)
    # An access token that lives for days: only REFRESH_AT_LEAST_EVERY (12 h) makes it refresh.
    obtained = connection.token_obtained_at
    Connection.objects.filter(pk=connection.pk).update(token_expires_at=obtained + timedelta(days=3))
    connection.refresh_from_db()
    schedule.after_new_authorization(connection)
    assert connection.next_renewal_at == obtained + timedelta(hours=12)
    auth_server.reset_stats()
    with time_machine.travel(obtained + timedelta(hours=11, minutes=59), tick=True):
        run_ready_tasks()
        assert auth_server.stats()["total"] == 0
    with time_machine.travel(obtained + timedelta(hours=12, seconds=1), tick=True):
        run_ready_tasks()
    assert auth_server.stats()["by_grant_type"] == {"refresh_token": 1}
    connection.refresh_from_db()
    assert connection.token_obtained_at > obtained + timedelta(hours=12)
    assert connection.status == Status.AUTHORIZED


def test_the_sweep_catches_a_renewal_whose_task_was_lost(auth_server):
    connection = make_hypatos(auth_server)
    connection.get_access_token()  # stored and planned (a task is queued for that moment)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the planned task is lost
    connection.refresh_from_db()
    auth_server.reset_stats()
    from connectors.engine.tasks import ensure_periodic_tasks

    with time_machine.travel(connection.next_renewal_at + timedelta(seconds=1), tick=True):
        ensure_periodic_tasks()  # what run_worker does at start
        run_ready_tasks()
    assert auth_server.stats()["total"] == 1
    # One sweep chain and one pruning chain wait for their next run.
    assert DBTaskResult.objects.filter(status="READY", task_path="connectors.engine.tasks.sweep").count() == 1
    assert DBTaskResult.objects.filter(status="READY", task_path="connectors.engine.tasks.prune").count() == 1


def test_pruning_keeps_the_newest_fifty_of_each_connection(auth_server):
    busy, quiet, recent = (make_hypatos(auth_server, name=name) for name in ("Busy", "Quiet", "Recent"))
    now = timezone.now()
    old = now - timedelta(days=100)
    Event.objects.bulk_create(
        [Event(connection=busy, action="refreshed", at=old + timedelta(hours=n)) for n in range(80)]
        + [Event(connection=busy, action="refreshed", at=now - timedelta(days=1, hours=n)) for n in range(30)]
        + [Event(connection=quiet, action="refreshed", at=old + timedelta(hours=n)) for n in range(10)]
        + [Event(connection=recent, action="refreshed", at=now - timedelta(days=80, hours=n)) for n in range(70)]
    )
    newest_busy = list(busy.events.values_list("id", flat=True)[:50])  # 30 recent, 20 old
    assert retention.prune_events(now) == 60
    assert list(busy.events.values_list("id", flat=True)) == newest_busy
    assert quiet.events.count() == 10  # old, but among its newest fifty
    assert recent.events.count() == 70  # within EVENT_RETENTION_DAYS


def test_change_page_pages_through_the_events(admin_client, auth_server):
    connection = make_hypatos(auth_server)
    Event.objects.bulk_create(
        [
            Event(connection=connection, action=f"event {n:02d}", at=timezone.now() - timedelta(minutes=n))
            for n in range(45)
        ]
    )
    url = f"/admin/connectors/hypatosconnection/{connection.pk}/change/"
    first = admin_client.get(url).content.decode()
    # The last ten on the page, older ones a page at a time.
    assert "event 00" in first and "event 09" in first and "event 10" not in first
    assert "Page 1 of 5" in first and "?events_page=2" in first
    last = admin_client.get(url + "?events_page=5").content.decode()
    assert "event 40" in last and "event 44" in last and "event 39" not in last
    assert admin_client.get(url + "?events_page=nonsense").status_code == 200
