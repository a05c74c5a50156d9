"""Re-encrypt every stored secret with the newest key of FIELD_ENCRYPTION_KEY (README, Key
rotation). Works on the stored ciphertext: values already under the newest key are left alone,
so the command is idempotent, and each row is rotated in its own short transaction under a row
lock, so it is safe to interrupt, to rerun, and to run while the site serves (a token renewed
meanwhile is not overwritten with an older value)."""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection as db
from django.db import transaction
from django.utils.translation import gettext, ngettext

from connectors.core.encryption import KeyConfigurationError, crypter, parse_keys
from connectors.models import encrypted_columns
from connectors.store import chunks


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret (client secrets, passwords, tokens) with the first (newest) key "
        "of FIELD_ENCRYPTION_KEY. Idempotent; safe to interrupt and run again. Exits with status 1 "
        "when some value cannot be decrypted with any configured key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be re-encrypted; write nothing.")

    def handle(self, *args, dry_run, **options):
        try:
            keys = parse_keys(getattr(settings, "FIELD_ENCRYPTION_KEY", None))
        except KeyConfigurationError as error:
            raise CommandError(str(error), returncode=2) from None
        newest, any_key = Fernet(keys[0]), crypter(keys)
        counts = {"rotated": 0, "current": 0, "unreadable": 0}
        unreadable = []
        for model, fields in encrypted_columns():
            # In chunks of ids (connectors/store/chunks.py): memory stays flat however many rows.
            for pk in (row.pk for row in chunks.each(model.objects.only("pk").order_by("pk"))):
                for field, outcome in _rotate_row(model, pk, fields, newest, any_key, dry_run).items():
                    counts[outcome] += 1
                    if outcome == "unreadable":
                        unreadable.append(
                            gettext("%(model)s id %(pk)s (%(field)s)")
                            % {"model": model._meta.verbose_name, "pk": pk, "field": field}
                        )
        rotated = (
            ngettext(
                "%(count)d value would be re-encrypted with the newest key",
                "%(count)d values would be re-encrypted with the newest key",
                counts["rotated"],
            )
            if dry_run
            else ngettext(
                "%(count)d value re-encrypted with the newest key",
                "%(count)d values re-encrypted with the newest key",
                counts["rotated"],
            )
        ) % {"count": counts["rotated"]}
        self.stdout.write(
            gettext(
                "%(rotated)s, %(current)d already under it, %(unreadable)d unreadable with the configured keys "
                "(%(keys)s)."
            )
            % {
                "rotated": rotated,
                "current": counts["current"],
                "unreadable": counts["unreadable"],
                "keys": ngettext("%(count)d key configured", "%(count)d keys configured", len(keys))
                % {"count": len(keys)},
            }
        )
        if unreadable:
            listed = "; ".join(unreadable[:20])
            if len(unreadable) > 20:
                listed = gettext("%(listed)s and more") % {"listed": listed}
            raise CommandError(
                gettext(
                    "Cannot decrypt: %(listed)s. Add the key they were encrypted with to FIELD_ENCRYPTION_KEY "
                    "(after the newest) and run again."
                )
                % {"listed": listed},
                returncode=1,
            )
        if counts["rotated"] and not dry_run and len(keys) > 1:
            self.stdout.write(
                gettext(
                    "Every readable value is now under the newest key: run this command once more after "
                    "every process runs with the new key, then remove the old keys."
                )
            )


def _rotate_row(model, pk, fields, newest, any_key, dry_run):
    """{field: "rotated" | "current" | "unreadable"} for one row's non-empty encrypted columns.

    The raw column is read and written (the model field would hand back plaintext, or raise
    when no key fits), so no secret is ever decrypted into a string here
    except inside Fernet's rotate()."""
    table, pk_column = db.ops.quote_name(model._meta.db_table), db.ops.quote_name(model._meta.pk.column)
    columns = [model._meta.get_field(name).column for name in fields]
    # FOR UPDATE where the database has it (PostgreSQL); SQLite's BEGIN IMMEDIATE (settings)
    # already holds the write lock for the whole transaction.
    lock = " FOR UPDATE" if db.features.has_select_for_update else ""
    outcomes, changes = {}, {}
    with transaction.atomic():
        with db.cursor() as cursor:
            quoted = ", ".join(db.ops.quote_name(column) for column in columns)
            cursor.execute(f"SELECT {quoted} FROM {table} WHERE {pk_column} = %s{lock}", [pk])
            row = cursor.fetchone()
            if row is None:  # deleted since the id list was read
                return {}
            for name, column, value in zip(fields, columns, row, strict=True):
                if not value:
                    continue
                stored = value.encode()
                try:
                    newest.decrypt(stored)
                    outcomes[name] = "current"
                    continue
                except InvalidToken:
                    pass
                try:
                    changes[column] = any_key.rotate(stored).decode()
                    outcomes[name] = "rotated"
                except InvalidToken:
                    outcomes[name] = "unreadable"
            if changes and not dry_run:
                assignments = ", ".join(f"{db.ops.quote_name(column)} = %s" for column in changes)
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s", [*changes.values(), pk])
    return outcomes
