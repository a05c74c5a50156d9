"""Test connections from the command line (cron, monitoring): the admin's Test Connection for
many at once, through the same bounded concurrent runner."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from connectors.engine import runner
from connectors.management import json_stream
from connectors.management.selection import select_connections
from connectors.store import chunks


class Command(BaseCommand):
    help = (
        "Test all connections, or those named by id, provider key or exact name, several at once. "
        "Prints one line per connection and a summary (or JSON with --json); exits with status 1 "
        "when any test failed, 2 when a selector matches nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("selectors", nargs="*", metavar="ID|PROVIDER|NAME")
        parser.add_argument("--json", action="store_true", help="Print one JSON document for machines.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Connections tested at once (default: PARTNER_CONNECTIONS['TEST_WORKERS']).",
        )

    def handle(self, *args, selectors, json: bool, workers, **options):
        if workers is not None and workers < 1:
            raise CommandError(gettext("--workers must be at least 1."), returncode=2)
        connections = select_connections(selectors)
        started = time.monotonic()
        counts = {"total": 0, "failed": 0}

        def results():
            # Chunk by chunk (connectors/store/chunks.py): memory stays flat however many there are,
            # and each line is written as soon as its chunk is tested.
            for chunk in chunks.in_chunks(connections):
                for connection, result in runner.test_connections(chunk, workers=workers):
                    counts["total"] += 1
                    counts["failed"] += not result.passed
                    yield connection, result

        def summary():
            return {
                "total": counts["total"],
                "passed": counts["total"] - counts["failed"],
                "failed": counts["failed"],
                "elapsed_ms": int((time.monotonic() - started) * 1000),
            }

        # Results carry the outcome sentences the admin shows: built from field labels, hosts and
        # the provider's error codes, never from a secret.
        if json:
            rows = ({"id": c.pk, "provider": c.provider, "name": c.name, **r.as_dict()} for c, r in results())
            json_stream.write_document(
                lambda text: self.stdout.write(text, ending=""), {}, "results", rows, lambda: {"summary": summary()}
            )
            self.stdout.write("")
        else:
            for connection, result in results():
                mark = self.style.SUCCESS("PASS") if result.passed else self.style.ERROR("FAIL")
                self.stdout.write(f"{mark} #{connection.pk} {connection}: {result.sentence}")
            totals = summary()
            self.stdout.write(
                ngettext(
                    "%(count)d tested in %(seconds)s s: %(passed)d passed, %(failed)d failed.",
                    "%(count)d tested in %(seconds)s s: %(passed)d passed, %(failed)d failed.",
                    totals["total"],
                )
                % {
                    "count": totals["total"],
                    "seconds": f"{totals['elapsed_ms'] / 1000:.1f}",
                    "passed": totals["passed"],
                    "failed": totals["failed"],
                }
            )
        failed, total = counts["failed"], counts["total"]
        if failed:
            raise CommandError(
                ngettext(
                    "%(failed)d of %(count)d connection test failed.",
                    "%(failed)d of %(count)d connection tests failed.",
                    total,
                )
                % {"failed": failed, "count": total},
                returncode=1,
            )
