"""The background queue, by task name.

The task declarations (connectors/engine/tasks.py) run the worker, the bulk run and retention,
and those enqueue tasks in turn (a renewal plans the next, a sweep enqueues batches, the admin
starts a bulk test). So that the modules below the declarations need not import them, they
enqueue by name here; `tasks.register()`, called by AppConfig.ready(), fills the registry.
"""

from django_tasks.base import Task

_TASKS: dict[str, Task] = {}


def register(*tasks: Task) -> None:
    for task in tasks:
        _TASKS[task.func.__name__] = task


def task(name: str) -> Task:
    try:
        return _TASKS[name]
    except KeyError:
        raise LookupError(
            f"no background task {name!r}: connectors/engine/tasks.py registers them when the app is ready"
        )


def enqueue(name: str, *args, run_after=None):
    """Enqueue task `name` with `args` (at `run_after`, when given)."""
    task_ = task(name)
    return (task_.using(run_after=run_after) if run_after else task_).enqueue(*args)


def is_pending(name: str, by=None) -> bool:
    """Is a run of task `name` waiting in the queue (to run no later than `by`, when given)?"""
    # Read at call time: the task results' model exists only once the apps are ready.
    from django.db.models import Q
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    waiting = DBTaskResult.objects.filter(task_path=task(name).module_path, status=TaskResultStatus.READY)
    if by is not None:
        # A task queued without run_after is stored as running after the largest date: at once.
        waiting = waiting.filter(Q(run_after__lte=by) | Q(run_after=get_date_max()))
    return waiting.exists()


def enqueue_once(name: str, run_after=None) -> bool:
    """Enqueue task `name` unless a run of it is already waiting; True when enqueued."""
    if is_pending(name):
        return False
    enqueue(name, run_after=run_after)
    return True
