"""Test connections from the command line (cron, monitoring): the admin's Test Connection for
many at once, through the same bounded concurrent runner."""

import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, ngettext

from connectors.engine import runner
from connectors.management.selection import select_connections


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
        results = runner.test_connections(connections, workers=workers)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        failed = sum(not result.passed for _, result in results)
        summary = {"total": len(results), "passed": len(results) - failed, "failed": failed, "elapsed_ms": elapsed_ms}
        # Results carry the outcome sentences the admin shows: built from field labels, hosts and
        # the provider's error codes, never from a secret.
        if json:
            rows = [{"id": c.pk, "provider": c.provider, "name": c.name, **result.as_dict()} for c, result in results]
            self.stdout.write(_dumps({"results": rows, "summary": summary}))
        else:
            for connection, result in results:
                mark = self.style.SUCCESS("PASS") if result.passed else self.style.ERROR("FAIL")
                self.stdout.write(f"{mark} #{connection.pk} {connection}: {result.sentence}")
            self.stdout.write(
                ngettext(
                    "%(count)d tested in %(seconds)s s: %(passed)d passed, %(failed)d failed.",
                    "%(count)d tested in %(seconds)s s: %(passed)d passed, %(failed)d failed.",
                    summary["total"],
                )
                % {
                    "count": summary["total"],
                    "seconds": f"{elapsed_ms / 1000:.1f}",
                    "passed": summary["passed"],
                    "failed": failed,
                }
            )
        if failed:
            raise CommandError(
                ngettext(
                    "%(failed)d of %(count)d connection test failed.",
                    "%(failed)d of %(count)d connection tests failed.",
                    len(results),
                )
                % {"failed": failed, "count": len(results)},
                returncode=1,
            )


def _dumps(document):
    return json.dumps(document, indent=2, ensure_ascii=False)
