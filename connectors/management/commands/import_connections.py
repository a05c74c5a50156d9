"""Read connection definitions written by export_connections: a dry run shows what would change;
--apply saves it (all or nothing) and lists the secrets to enter afterwards."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from connectors.store import definitions


class Command(BaseCommand):
    help = (
        "Compare a connection definitions file with the stored connections (create, update or unchanged, "
        "by provider and name, ignoring case) and, with --apply, save it. A dry run is the default."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON file (- for standard input).")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Only show what would change (the default).")
        mode.add_argument("--apply", action="store_true", help="Save the changes.")

    def handle(self, *args, file, apply, **options):
        try:
            # One byte more than the limit is enough to know the file is too large.
            limit = definitions.MAX_DOCUMENT_BYTES + 1
            if file == "-":
                text = sys.stdin.buffer.read(limit)
            else:
                with open(file, "rb") as source:
                    text = source.read(limit)
            import_plan = definitions.plan(definitions.parse(text))
        except OSError as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}) from None
        except definitions.DocumentError as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}) from None
        for line in describe(import_plan):
            self.stdout.write(line)
        if not import_plan.valid:
            raise CommandError(_("Nothing was saved: fix the entries marked invalid."), returncode=1)
        if not apply:
            self.stdout.write(_("Dry run: nothing was saved. Run again with --apply to save."))
            return
        definitions.apply(import_plan)
        self.stdout.write(
            _("Saved: %(create)d created, %(update)d updated, %(unchanged)d unchanged.") % counts(import_plan)
        )
        to_enter = [item for item in import_plan.items if item.secrets_to_enter]
        if to_enter:
            self.stdout.write(_("Enter these secrets in the admin before using the connections:"))
            for item in to_enter:
                self.stdout.write(f"  {item.label}: {', '.join(item.secrets_to_enter)}")


def describe(import_plan):
    """The dry-run report: one line per connection, then its changed fields or errors."""
    for item in import_plan.items:
        yield f"{item.action.upper():9} {item.label}"
        for label, old, new in item.changes:
            yield f"          {label}: {old!r} → {new!r}"
        for error in item.errors:
            yield f"          {error}"
        if item.clears_secrets:
            yield "          " + _(
                "A URL moves to another host or port: the stored secrets and tokens will be cleared."
            )
        if item.secrets_to_enter:
            yield "          " + _("Secrets to enter afterwards: %(names)s") % {
                "names": ", ".join(item.secrets_to_enter)
            }
    yield _("%(create)d to create, %(update)d to update, %(unchanged)d unchanged, %(invalid)d invalid.") % counts(
        import_plan
    )


def counts(import_plan):
    return {action: import_plan.count(action) for action in ("create", "update", "unchanged", "invalid")}
