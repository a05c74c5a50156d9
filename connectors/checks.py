"""Start-up checks: refuse to run with an encryption key that is missing, malformed, or cannot
read what is stored. django-encrypted-model-fields alone would hand back the ciphertext as if it
were the secret and send it to the partner."""

from django.conf import settings
from django.core.checks import Error, register
from django.db import DatabaseError, connection

from .encryption import KeyConfigurationError, can_decrypt, crypter


def undecryptable_rows(multi_fernet):
    """Yield (model label, pk, field) for every stored encrypted value the keys cannot read."""
    quote = connection.ops.quote_name
    from .models import encrypted_columns

    for model, fields in encrypted_columns():
        # Raw SQL, not the ORM: the field's from_db_value would hide the failure by returning
        # the ciphertext.
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quote(model._meta.pk.column)}, {columns} FROM {quote(model._meta.db_table)}")
            for pk, *values in cursor.fetchall():
                for name, value in zip(fields, values, strict=True):
                    if value and not can_decrypt(multi_fernet, value):
                        yield model._meta.verbose_name, pk, name


@register("security", deploy=False)
def check_encryption_key(app_configs=None, **kwargs):
    try:
        multi_fernet = crypter(getattr(settings, "FIELD_ENCRYPTION_KEY", None))
    except KeyConfigurationError as error:
        return [Error(str(error), id="connectors.E001")]
    try:
        bad = list(undecryptable_rows(multi_fernet))
    except DatabaseError:
        # Tables not migrated yet: nothing stored that could be unreadable.
        return []
    if not bad:
        return []
    rows = "; ".join(f"{label} id {pk} ({field})" for label, pk, field in bad[:20])
    more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
    return [
        Error(
            f"FIELD_ENCRYPTION_KEY cannot decrypt stored values: {rows}{more}.",
            hint="Put the key these values were encrypted with back into FIELD_ENCRYPTION_KEY "
            "(a comma-separated list, newest first), or clear those secrets and enter them again.",
            id="connectors.E002",
        )
    ]
