"""Connections to partner APIs: a shared base with the OAuth fields and token state, and one
model per provider for that provider's own fields (multi-table inheritance, so the overview lists
all connections in one query)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from encrypted_model_fields.fields import EncryptedCharField, EncryptedMixin, EncryptedTextField

from .providers import PROVIDERS, get_provider
from .providers.hypatos import ENDPOINTS as HYPATOS_ENDPOINTS

PROVIDER_CHOICES = [(key, provider.label) for key, provider in PROVIDERS.items()]


class Status(models.TextChoices):
    NOT_AUTHORIZED = "not_authorized", "Not authorized"
    AUTHORIZED = "authorized", "Authorized"
    NEEDS_REAUTHORIZATION = "needs_reauthorization", "Needs reauthorization"


class Connection(models.Model):
    provider = models.CharField(max_length=32, choices=PROVIDER_CHOICES, editable=False)
    name = models.CharField(max_length=100)
    client_id = models.CharField("Client ID", max_length=255, blank=True)
    client_secret = EncryptedCharField("Client Secret", max_length=500, blank=True)
    scope = models.CharField("Scope", max_length=1000, blank=True)
    authorization_url = models.CharField("Authorization URL", max_length=500, blank=True)
    token_url = models.CharField("Access Token URL", max_length=500, blank=True)

    access_token = EncryptedTextField(blank=True, editable=False)
    refresh_token = EncryptedTextField(blank=True, editable=False)
    token_type = models.CharField(max_length=40, blank=True, editable=False)
    token_scope = models.CharField(max_length=1000, blank=True, editable=False)
    token_obtained_at = models.DateTimeField(null=True, blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    status = models.CharField(max_length=32, choices=Status.choices, default=Status.NOT_AUTHORIZED, editable=False)
    status_reason = models.CharField(max_length=300, blank=True, editable=False)
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_passed = models.BooleanField(null=True, editable=False)
    last_test_message = models.CharField(max_length=500, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "name"]
        verbose_name_plural = "All connections"
        constraints = [models.UniqueConstraint(fields=["provider", "name"], name="unique_name_per_provider")]

    def __str__(self):
        return f"{self.provider_info.label}: {self.name}" if self.provider else self.name

    def save(self, *args, **kwargs):
        key = getattr(type(self), "PROVIDER_KEY", None)
        if key:
            self.provider = key
        super().save(*args, **kwargs)

    @property
    def provider_info(self):
        # The class knows its provider before the first save sets the column.
        return get_provider(getattr(type(self), "PROVIDER_KEY", None) or self.provider)

    @property
    def specific(self):
        """This connection as its provider's model (with the provider's own fields)."""
        model = type(self)
        if model is not Connection:
            return self
        child = self.provider_info.model_name.lower()
        return getattr(self, child)

    @property
    def has_token(self):
        return bool(self.access_token)

    def get_access_token(self):
        """A valid access token, refreshed or re-requested shortly before expiry.

        Raises connectors.failures.OAuthFailure (with a sentence saying what to fix) when no
        token can be had.
        """
        from .tokens import get_access_token

        return get_access_token(self)

    def session(self):
        """A requests.Session that sends a valid bearer token with every request."""
        from .tokens import session

        return session(self)

    def clear_tokens(self, reason=""):
        self.access_token = self.refresh_token = self.token_type = self.token_scope = ""
        self.token_obtained_at = self.token_expires_at = None
        self.status = Status.NOT_AUTHORIZED
        self.status_reason = reason


class InverbisConnection(Connection):
    PROVIDER_KEY = "inverbis"
    server = models.CharField("Server", max_length=63, blank=True)
    tenant = models.CharField("Tenant", max_length=100)

    class Meta:
        verbose_name = "Inverbis Analytics connection"
        # The admin section is named as the provider's documentation names the connector.
        verbose_name_plural = "Inverbis Analytics — Partner connection"


class InveniasConnection(Connection):
    PROVIDER_KEY = "invenias"
    subdomain = models.CharField("Subdomain", max_length=63)
    api_url = models.CharField("API URL", max_length=500, blank=True)
    username = models.CharField("Username", max_length=255, blank=True)
    password = EncryptedCharField("Password", max_length=500, blank=True)

    class Meta:
        verbose_name = "Invenias connection"
        # The admin section is named as the provider's documentation names the connector.
        verbose_name_plural = "Invenias"


class HypatosConnection(Connection):
    PROVIDER_KEY = "hypatos"
    endpoint_url = models.CharField("Endpoint URL", max_length=500, default=HYPATOS_ENDPOINTS[0])

    class Meta:
        verbose_name = "Hypatos.ai connection"
        # The admin section is named as the provider's documentation names the connector.
        verbose_name_plural = "Hypatos.ai — Partner connection"


class Event(models.Model):
    """What happened to a connection, by whom; never holds a secret."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    succeeded = models.BooleanField(default=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


def secret_fields(model):
    """The secrets an operator enters on a connection model: its editable encrypted fields."""
    return tuple(f.name for f in model._meta.fields if isinstance(f, EncryptedMixin) and f.editable)


def encrypted_columns():
    """(model, field names) for every table of this app that holds encrypted values; the key
    check and key rotation cover a new provider's secrets without being told."""
    from django.apps import apps

    for model in apps.get_app_config("connectors").get_models():
        names = [f.name for f in model._meta.local_fields if isinstance(f, EncryptedMixin)]
        if names:
            yield model, names
