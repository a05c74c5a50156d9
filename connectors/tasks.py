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

from . import bulk, retention, worker
from .app_settings import app_settings

# Task results older than this are deleted with the events (django-tasks-db keeps them).
TASK_RESULTS_KEPT_DAYS = 7
PRUNE_EVERY = timedelta(hours=1)


@task()
def renew_connection(pk):
    """One connection's planned renewal (enqueued for the moment its token plans)."""
    return worker.renew_due(pk)


@task()
def renew_batch(pks):
    """The due connections a sweep found, renewed at once on a bounded pool of threads."""
    return worker.renew_many(pks)


@task()
def sweep():
    """Every SWEEP_INTERVAL_SECONDS: enqueue the renewals that are due and were missed."""
    try:
        return worker.sweep()
    finally:
        enqueue_once(sweep, timezone.now() + timedelta(seconds=app_settings.SWEEP_INTERVAL_SECONDS))


@task()
def prune():
    """Every hour: events past retention, and the worker's own finished task results."""
    try:
        deleted = retention.prune_events()
        call_command("prune_db_task_results", min_age_days=TASK_RESULTS_KEPT_DAYS, verbosity=0)
        return deleted
    finally:
        enqueue_once(prune, timezone.now() + PRUNE_EVERY)


@task()
def run_bulk_test(bulk_test_id):
    """The admin's "Test selected connections", with its progress page reading the outcomes."""
    return bulk.run(bulk_test_id)


def is_pending(task_):
    """Is a run of `task_` waiting in the queue?"""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=task_.module_path, status=TaskResultStatus.READY).exists()


def enqueue_once(task_, run_after=None):
    """Enqueue `task_` unless a run of it is already waiting; True when enqueued."""
    if is_pending(task_):
        return False
    (task_.using(run_after=run_after) if run_after else task_).enqueue()
    return True


def ensure_periodic_tasks():
    """At worker start: the sweep and the pruning, if their chain was lost (a killed worker)."""
    enqueue_once(sweep)
    enqueue_once(prune)
