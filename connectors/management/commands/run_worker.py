"""The background worker: django-tasks-db's `db_worker` (all its options, e.g. `--interval 0.5`,
`--batch`, `--worker-id`), after making sure the periodic tasks are scheduled (a killed worker
can lose their chain)."""

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from connectors.engine.tasks import ensure_periodic_tasks


class Command(DatabaseWorkerCommand):
    help = (
        "Run a background worker for Partner Connections: renewals ahead of expiry, the sweep, "
        "bulk tests and event pruning. Takes db_worker's options. Ctrl+C or SIGTERM stops it "
        "after its current task."
    )

    def handle(self, *args, **options):
        ensure_periodic_tasks()
        return super().handle(*args, **options)
