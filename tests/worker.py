"""The real task worker in tests: django-tasks-db's own Worker (what `db_worker` runs), either
in the test process until the queue holds nothing ready (`run_ready_tasks`), or as a separate
`manage.py run_worker` process on the test database (`running_worker`).

Both need a transactional test (`django_db(transaction=True)`): the worker claims tasks in a
transaction of its own (BEGIN EXCLUSIVE on SQLite), which cannot start inside the test's.
"""

import os
import subprocess
import sys
from contextlib import contextmanager

from django_tasks_db.management.commands.db_worker import Worker

from tests.processes import REPO_ROOT


def run_ready_tasks(max_tasks=None):
    """Run every task that is ready now (tasks they enqueue for now too), then return."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="tests-in-process",
        excluded_queue_names=[],
    ).run()


@contextmanager
def running_worker(db_url, *options):
    """`manage.py run_worker` in its own process on the database at `db_url`, until the block
    ends (then stopped with SIGTERM, as a service manager stops it)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_DATABASE_URL": db_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "manage.py", "run_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"]
    process = subprocess.Popen(
        [*command, *options], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
