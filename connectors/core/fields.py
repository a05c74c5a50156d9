"""The encrypted fields every secret is stored in: django-encrypted-model-fields' fields with
three of its behaviours corrected.

- Decryption happens only for what is read from the database (`from_db_value`). The library
  decrypts in `to_python`, which Django also calls on save (`get_prep_value`): a Fernet token
  typed into a secret field was stored, and sent to the partner, as the plaintext it encrypts.
  Here a typed value is always taken literally, and validation refuses one that decrypts under a
  configured key (models and forms alike), with a message naming the field.
- A stored value the configured keys cannot read raises `UnreadableSecret`, naming the field.
  The library hands back the ciphertext itself, which was then sent to the partner as the secret.
- Serialization (`manage.py dumpdata`) writes the ciphertext, never the plaintext.

The keys are read from settings at each use (FIELD_ENCRYPTION_KEY, newest first: the first
encrypts, all decrypt), so a rotation takes effect without a restart of the field library.
"""

from functools import lru_cache

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedMixin

from connectors.core.encryption import crypter


class UnreadableSecret(Exception):
    """A stored secret that no configured key decrypts; the message names the field, never a value."""


@lru_cache(maxsize=8)
def _crypter_for(keys):
    return crypter(list(keys))


def current_crypter():
    configured = getattr(settings, "FIELD_ENCRYPTION_KEY", None)
    if isinstance(configured, str):
        configured = configured.split(",")
    return _crypter_for(tuple(configured or ()))


def is_ciphertext(value):
    """True when `value` is a token one of the configured keys decrypts."""
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        current_crypter().decrypt(value.encode("utf-8"))
    except (InvalidToken, ValueError, TypeError):
        return False
    return True


class SecretFieldMixin(EncryptedMixin):
    def to_python(self, value):
        # What the program or the operator hands over is the secret itself: never decrypted.
        return super(EncryptedMixin, self).to_python(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        try:
            return current_crypter().decrypt(value.encode("utf-8")).decode("utf-8")
        except InvalidToken:
            model = self.model._meta.label if getattr(self, "model", None) else "a model"
            raise UnreadableSecret(
                gettext(
                    "FIELD_ENCRYPTION_KEY cannot decrypt the stored %(field)s of %(model)s: put back the key it "
                    "was encrypted with (README, Key rotation), or clear that secret and enter it again."
                )
                % {"field": self.name, "model": model}
            ) from None

    def get_db_prep_save(self, value, connection):
        value = super(EncryptedMixin, self).get_db_prep_save(value, connection)
        if value is None:
            return value
        return current_crypter().encrypt(str(value).encode("utf-8")).decode("utf-8")

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if is_ciphertext(value):
            raise ValidationError(
                _(
                    "%(field)s: enter the secret itself; this value is encrypted text, which is never accepted as a secret."
                ),
                code="ciphertext",
                params={"field": self.verbose_name},
            )

    def value_to_string(self, obj):
        # dumpdata and the other serializers: the ciphertext, never the plaintext.
        value = self.value_from_object(obj)
        if value in (None, ""):
            return value
        return current_crypter().encrypt(str(value).encode("utf-8")).decode("utf-8")


class SecretCharField(SecretFieldMixin, models.CharField):
    pass


class SecretTextField(SecretFieldMixin, models.TextField):
    pass
