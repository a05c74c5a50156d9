"""The background tasks, on Django's tasks API (the django-tasks backport of Django 6's
django.tasks; on Django 6 only the import changes). Run by `manage.py run_worker` (README,
Production), which makes sure the periodic ones are scheduled and then runs django-tasks-db's
`db_worker`.

django-tasks has no scheduler of its own: a periodic task enqueues its next run (`run_after`)
when it finishes, unless one is already waiting, so that however many workers or restarts there
are, one chain of each remains.
"""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from connectors.core.app_settings import app_settings
from connectors.engine import bulk, burst, queue, retention, schedule, worker

# Task results older than this are deleted with the events (django-tasks-db keeps them).
TASK_RESULTS_KEPT_DAYS = 7
PRUNE_EVERY = timedelta(hours=1)


@task()
def renew_due_now():
    """Every renewal that is due, in batches on a bounded pool of threads
    (connectors/engine/burst.py). Queued for the earliest planned renewal and by the sweep; when
    more is due than one batch, another is queued so that idle workers join in."""
    try:
        # A drain queued for now (not a wake-up queued for a later plan) lets an idle worker join.
        return burst.drain(on_backlog=lambda: schedule.wake_at(timezone.now()))
    finally:
        # Plans made while this drain was queued queued no wake-up of their own.
        schedule.wake_at_next_plan()


@task()
def renew_connection(pk):
    """A renewal task queued by an earlier version (one per connection): drains what is due."""
    return renew_due_now.call()


@task()
def renew_batch(pks):
    """A sweep's batch queued by an earlier version: drains what is due."""
    return renew_due_now.call()


@task()
def sweep():
    """Every SWEEP_INTERVAL_SECONDS: enqueue the renewals that are due and were missed."""
    try:
        return worker.sweep()
    finally:
        queue.enqueue_once("sweep", timezone.now() + timedelta(seconds=app_settings.SWEEP_INTERVAL_SECONDS))


@task()
def prune():
    """Every hour: events past retention, and the worker's own finished task results."""
    try:
        deleted = retention.prune_events()
        call_command("prune_db_task_results", min_age_days=TASK_RESULTS_KEPT_DAYS, verbosity=0)
        return deleted
    finally:
        queue.enqueue_once("prune", timezone.now() + PRUNE_EVERY)


@task()
def run_bulk_test(bulk_test_id):
    """The admin's "Test selected connections", with its progress page reading the outcomes."""
    return bulk.run(bulk_test_id)


def ensure_periodic_tasks():
    """At worker start: the sweep and the pruning, if their chain was lost (a killed worker)."""
    queue.enqueue_once("sweep")
    queue.enqueue_once("prune")


def register():
    """Make the tasks known to the queue by name (connectors/engine/queue.py); AppConfig.ready() calls it."""
    queue.register(renew_due_now, renew_connection, renew_batch, sweep, prune, run_bulk_test)
