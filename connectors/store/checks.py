"""Start-up checks: refuse to run with an encryption key that is missing, malformed, or cannot
read what is stored. django-encrypted-model-fields alone would hand back the ciphertext as if it
were the secret and send it to the partner."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connection

from connectors.core.encryption import KeyConfigurationError, can_decrypt, crypter


def undecryptable_rows(multi_fernet, chunk_size=1000):
    """Yield (model label, pk, field) for every stored encrypted value the keys cannot read."""
    quote = connection.ops.quote_name
    from connectors.models import encrypted_columns

    for model, fields in encrypted_columns():
        # Raw SQL, not the ORM: the field's from_db_value raises on the first unreadable value
        # (connectors/core/fields.py), and the check must name every one, decrypting nothing into
        # a string. In chunks by id, each a query of its own: memory stays flat whatever the
        # number of rows (a client-side cursor would hold every row of the table at once).
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        pk = quote(model._meta.pk.column)
        select = f"SELECT {pk}, {columns} FROM {quote(model._meta.db_table)}"
        last = None
        while True:
            with connection.cursor() as cursor:
                if last is None:
                    cursor.execute(f"{select} ORDER BY {pk} LIMIT %s", [chunk_size])
                else:
                    cursor.execute(f"{select} WHERE {pk} > %s ORDER BY {pk} LIMIT %s", [last, chunk_size])
                rows = cursor.fetchall()
            for row_pk, *values in rows:
                for name, value in zip(fields, values, strict=True):
                    if value and not can_decrypt(multi_fernet, value):
                        yield model._meta.verbose_name, row_pk, name
            if len(rows) < chunk_size:
                break
            last = rows[-1][0]


def sampled_row_unreadable(multi_fernet):
    """[(model label, pk, field)] of the encrypted values of the newest row of each table that
    the keys cannot read: a wrong key shows on any row, at the cost of one query per table."""
    quote = connection.ops.quote_name
    from connectors.models import encrypted_columns

    for model, fields in encrypted_columns():
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        pk = quote(model._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {columns} FROM {quote(model._meta.db_table)} ORDER BY {pk} DESC LIMIT 1")
            row = cursor.fetchone()
        if row:
            for name, value in zip(fields, row[1:], strict=True):
                if value and not can_decrypt(multi_fernet, value):
                    yield model._meta.verbose_name, row[0], name


def _keys():
    try:
        return crypter(getattr(settings, "FIELD_ENCRYPTION_KEY", None)), None
    except KeyConfigurationError as error:
        return None, [Error(str(error), id="connectors.E001")]


def _undecryptable_error(bad):
    rows = "; ".join(f"{label} id {pk} ({field})" for label, pk, field in bad[:20])
    more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
    return Error(
        f"FIELD_ENCRYPTION_KEY cannot decrypt stored values: {rows}{more}.",
        hint="Put the key these values were encrypted with back into FIELD_ENCRYPTION_KEY "
        "(a comma-separated list, newest first), or clear those secrets and enter them again.",
        id="connectors.E002",
    )


@register("security")
def check_encryption_key(app_configs=None, **kwargs):
    """Before every command, in constant time: the keys parse and one stored row decrypts. The
    full scan (every stored value) is check_every_stored_secret, under --deploy or --database."""
    multi_fernet, errors = _keys()
    if errors:
        return errors
    try:
        bad = list(sampled_row_unreadable(multi_fernet))
    except DatabaseError:
        return []  # tables not migrated yet: nothing stored that could be unreadable
    return [_undecryptable_error(bad)] if bad else []


def _full_scan():
    multi_fernet, errors = _keys()
    if errors:
        return []  # check_encryption_key reports it
    try:
        bad = list(undecryptable_rows(multi_fernet))
    except DatabaseError:
        return []
    return [_undecryptable_error(bad)] if bad else []


@register("security", deploy=True)
def check_every_stored_secret(app_configs=None, databases=None, **kwargs):
    """`check --deploy`: every stored encrypted value decrypts (time grows with the rows)."""
    if databases:
        return []  # check_every_stored_secret_in_database runs it once
    return _full_scan()


@register(Tags.database)
def check_every_stored_secret_in_database(app_configs=None, databases=None, **kwargs):
    """`check --database default`: the same full scan, as Django's database checks run."""
    return _full_scan() if databases else []
