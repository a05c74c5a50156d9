"""The field-encryption keys: parsing, validation and a crypter built from settings.

Kept free of model imports so that `project/settings.py` can validate the configured keys before
django-encrypted-model-fields builds its own crypter at import time (that library raises a terse
error on a bad key and, worse, silently returns ciphertext for values it cannot decrypt).
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

GENERATE_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class KeyConfigurationError(ValueError):
    """FIELD_ENCRYPTION_KEY is missing or malformed; the message says how to fix it."""


def parse_keys(configured):
    """Return the list of Fernet keys from a list or a comma-separated string (newest first)."""
    if configured is None:
        configured = []
    if isinstance(configured, str):
        configured = configured.split(",")
    keys = [str(key).strip() for key in configured if str(key).strip()]
    if not keys:
        raise KeyConfigurationError(f"FIELD_ENCRYPTION_KEY is not set: {GENERATE_HINT}")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # Never echo the key itself: it is a secret even when malformed.
            raise KeyConfigurationError(
                f"FIELD_ENCRYPTION_KEY entry {position} of {len(keys)} is not a valid Fernet key "
                f"(32 url-safe base64-encoded bytes): {GENERATE_HINT}"
            ) from None
    return keys


def crypter(configured):
    """A MultiFernet that encrypts with the first key and decrypts with any of them."""
    return MultiFernet([Fernet(key) for key in parse_keys(configured)])


def can_decrypt(multi_fernet, stored):
    try:
        multi_fernet.decrypt(stored.encode("utf-8"))
    except (InvalidToken, AttributeError):
        return False
    return True
