"""Connections to partner APIs: a shared base with the OAuth fields and token state, and one
model per provider for that provider's own fields (multi-table inheritance, so the overview lists
all connections in one query)."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from encrypted_model_fields.fields import EncryptedMixin

from connectors.core import token_state
from connectors.core.fields import SecretCharField, SecretTextField
from connectors.core.sentences import sentence_from
from connectors.core.token_state import Status
from connectors.partners.providers import PROVIDERS, get_provider, provider_choices
from connectors.partners.providers.base import Provider
from connectors.partners.providers.hypatos import default_endpoint as hypatos_default_endpoint
from connectors.store import policy, rules

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


# The engine's token API (connectors/engine/tokens.py) builds on these models, so the models may
# not import it: AppConfig.ready() (connectors/apps.py) fills this with its `get_access_token` and
# `session`, which Connection's convenience methods of the same names call.
TOKEN_API: dict[str, Callable[..., Any]] = {}

# The actions as a person reads them in the Events table; the stored action stays the code.
EVENT_ACTION_LABELS = {
    "created": gettext_lazy("created"),
    "changed": gettext_lazy("changed"),
    "authorize started": gettext_lazy("authorize started"),
    "authorized": gettext_lazy("authorized"),
    "authorize failed": gettext_lazy("authorize failed"),
    "scope not granted": gettext_lazy("scope not granted"),
    "tested": gettext_lazy("tested"),
    "test failed": gettext_lazy("test failed"),
    "tested unsaved": gettext_lazy("tested unsaved"),
    "not tested": gettext_lazy("not tested"),
    "refreshed": gettext_lazy("refreshed"),
    "refresh failed": gettext_lazy("refresh failed"),
    "token requested": gettext_lazy("token requested"),
    "token request failed": gettext_lazy("token request failed"),
    "token handed out": gettext_lazy("token handed out"),
    "revoked": gettext_lazy("revoked"),
    "revocation failed": gettext_lazy("revocation failed"),
    "revocation skipped": gettext_lazy("revocation skipped"),
    "renewal recovered": gettext_lazy("renewal recovered"),
}


class Connection(models.Model):
    # The registry is the list of choices (a callable: no label is copied into a migration).
    provider = models.CharField(gettext_lazy("provider"), max_length=32, choices=provider_choices, editable=False)
    name = models.CharField(gettext_lazy("name"), max_length=100)
    client_id = models.CharField(gettext_lazy("Client ID"), max_length=255, blank=True)
    client_secret = SecretCharField(gettext_lazy("Client Secret"), max_length=500, blank=True)
    scope = models.CharField(gettext_lazy("Scope"), max_length=1000, blank=True)
    authorization_url = models.CharField(gettext_lazy("Authorization URL"), max_length=500, blank=True)
    token_url = models.CharField(gettext_lazy("Access Token URL"), max_length=500, blank=True)
    # The grant this connection uses (an RFC 6749 grant_type, connectors/grants): its
    # provider's, or the operator's choice where the provider offers one (grant_choices). On the
    # base row, so that lists, health and the worker know it without the provider's table.
    grant = models.CharField(gettext_lazy("Grant type"), max_length=40, blank=True)

    access_token = SecretTextField(blank=True, editable=False)
    refresh_token = SecretTextField(blank=True, editable=False)
    token_type = models.CharField(max_length=40, blank=True, editable=False)
    token_scope = models.CharField(max_length=1000, blank=True, editable=False)
    token_obtained_at = models.DateTimeField(null=True, blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    status = models.CharField(
        gettext_lazy("status"), max_length=32, choices=Status.choices, default=Status.NOT_AUTHORIZED, editable=False
    )
    # Why the status is what it is, as an English msgid (set through gettext_noop), shown translated
    # by connectors/store/display.py.
    status_reason = models.CharField(max_length=300, blank=True, editable=False)
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_passed = models.BooleanField(null=True, editable=False)
    last_test_message = models.CharField(max_length=500, blank=True, editable=False)
    # The last test's sentence as code and parameters (connectors/core/sentences.py), shown in the
    # reader's language; last_test_message keeps its English text (and old rows' only text).
    last_test_sentence = models.JSONField(null=True, blank=True, editable=False)
    # When the operator last changed the settings: a failed test older than this is moot
    # (connectors/store/health.py).
    settings_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Whom the stored authorization belongs to, as the provider names them (Inverbis: the
    # userinfo's preferred_username or email, read once after Generate).
    token_account = models.CharField(max_length=255, blank=True, editable=False)

    # Renewal facts (connectors/engine/renewal.py): the claim (lease) serializing renewals of this
    # connection across threads, processes and machines without a transaction across the
    # partner's answer; when the next renewal is planned; and how renewals have been failing.
    renewal_claimed_by = models.CharField(max_length=64, blank=True, editable=False)
    renewal_claim_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_renewal_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    renewal_failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    renewal_attempts = models.PositiveIntegerField(default=0, editable=False)
    renewal_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The provider refused the saved settings for good (connectors/store/health.py's decision table):
    # when, and {kind, status, fields to fix, sentence}; in force until the settings change after
    # it. Never a secret.
    refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    refusal = models.JSONField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "name"]
        verbose_name = gettext_lazy("connection")
        # The admin index names the overview so; its pages use their own titles and counts.
        verbose_name_plural = gettext_lazy("All connections")
        constraints = [
            # "Prod" and "prod" are one name, as operators read them (the database compares
            # case-insensitively; SQLite folds ASCII letters only, PostgreSQL all of them).
            models.UniqueConstraint(
                Lower("name"),
                "provider",
                name="unique_name_per_provider_ci",
                violation_error_code="duplicate_name",
            )
        ]
        # What is due (refresh_tokens, the health counts) is found without reading every row.
        indexes = [
            models.Index(fields=["status", "token_expires_at"], name="connection_status_expiry"),
            # The lists' order and the commands' walk in chunks (connectors/store/chunks.py): a range
            # of this index per chunk, however many connections.
            models.Index(fields=["provider", "name", "id"], name="connection_listing"),
            # What the worker claims (authorized, plan come), oldest plan first, and the earliest plan
            # ahead: a range of this index, not a sort of every authorized row.
            models.Index(fields=["status", "next_renewal_at"], name="connection_status_plan"),
            # The admin index's banner counts only the rows that may need attention
            # (health.attention_candidates): these keep it from reading the whole table.
            models.Index(
                fields=["renewal_failing_since"],
                condition=models.Q(renewal_failing_since__isnull=False),
                name="connection_renewal_failing",
            ),
            models.Index(
                fields=["last_test_passed"], condition=models.Q(last_test_passed=False), name="connection_test_failed"
            ),
        ]

    if TYPE_CHECKING:
        events: "RelatedManager[Event]"

    def __str__(self):
        # One name form everywhere (headings, messages, the API key's connection picker): the
        # provider's short name, then the connection's.
        return f"{self.provider_info.short_name} · {self.name}" if self.provider else self.name

    def save(self, *args, **kwargs):
        self._apply_provider()
        # The change policy (connectors/store/policy.py) has the last word, whichever door the
        # change came through: a URL moved to another origin drops the tokens and the secrets
        # nobody entered again.
        update_fields = kwargs.get("update_fields")
        moved_from = policy.before_save(self, update_fields)
        if moved_from is not None and update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *policy.fields_a_move_clears(self)}
        super().save(*args, **kwargs)
        policy.after_save(self, moved_from)

    def _apply_provider(self):
        """The provider column from the model, and the grant from the provider when it offers
        no choice (or none was made)."""
        key = getattr(type(self), "PROVIDER_KEY", None)
        if key:
            self.provider = key
        if self.provider in PROVIDERS:  # an unknown one is refused by the rules, not here
            provider = self.provider_info
            if not provider.grant_choices or not self.grant:
                self.grant = provider.grant

    # -- the rules (connectors/store/rules.py): full_clean() refuses what the admin form refuses ------

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=True):
        self._apply_provider()
        rules.normalize(self, secret_fields(type(self)))
        super().full_clean(exclude, validate_unique, validate_constraints)

    def clean_fields(self, exclude=None):
        exclude = set(exclude or ())
        errors = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "provider" not in exclude:
            errors.update(rules.provider_errors(self))
        if type(self) is not Connection and "provider" not in errors:
            # The provider's rules need the provider's own fields (its model, not the base).
            for name, messages in rules.field_errors(self, exclude | set(errors)).items():
                errors.setdefault(name, []).extend(messages)
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        try:
            super().validate_constraints(exclude)
        except ValidationError as error:
            # The constraint names no field: its sentence goes on the name, as on the form.
            errors: dict[str, list[ValidationError]] = {}
            for field, items in error.update_error_dict({}).items():
                for item in items:
                    if getattr(item, "code", None) == "duplicate_name":
                        errors.setdefault("name", []).append(
                            ValidationError(self.duplicate_name_message(), code="duplicate_name")
                        )
                    else:
                        errors.setdefault(field, []).append(item)
            raise ValidationError(errors) from None

    def duplicate_name_message(self) -> str:
        return _("Another %(provider)s connection is already named “%(name)s”.") % {
            "provider": self.provider_info.label,
            "name": self.name,
        }

    @property
    def provider_info(self) -> Provider:
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

    def get_access_token(self, *, margin: int | None = None) -> str:
        """A valid access token, refreshed or re-requested shortly before expiry.

        Raises connectors.core.failures.OAuthFailure (with a sentence saying what to fix) when no
        token can be had.
        """
        return TOKEN_API["get_access_token"](self, margin=margin)

    def session(self) -> requests.Session:
        """A requests.Session that sends a valid bearer token with every request."""
        return TOKEN_API["session"](self)

    def clear_tokens(self, reason=""):
        token_state.clear(self, reason)


class InverbisConnection(Connection):
    PROVIDER_KEY = "inverbis"
    server = models.CharField(gettext_lazy("Server"), max_length=63, blank=True)
    tenant = models.CharField(gettext_lazy("Tenant"), max_length=100)

    class Meta:
        verbose_name = gettext_lazy("Inverbis Analytics connection")
        # The admin section is named as the provider's documentation names the connector.
        verbose_name_plural = gettext_lazy("Inverbis Analytics — Partner connection")


class InveniasConnection(Connection):
    PROVIDER_KEY = "invenias"
    subdomain = models.CharField(gettext_lazy("Subdomain"), max_length=63)
    api_url = models.CharField(gettext_lazy("API URL"), max_length=500, blank=True)
    username = models.CharField(gettext_lazy("Username"), max_length=255, blank=True)
    password = SecretCharField(gettext_lazy("Password"), max_length=500, blank=True)

    class Meta:
        verbose_name = gettext_lazy("Invenias connection")
        # The admin section is named as the provider's documentation names the connector.
        verbose_name_plural = gettext_lazy("Invenias")


class HypatosConnection(Connection):
    PROVIDER_KEY = "hypatos"
    endpoint_url = models.CharField(gettext_lazy("Endpoint URL"), max_length=500, default=hypatos_default_endpoint)

    class Meta:
        verbose_name = gettext_lazy("Hypatos.ai connection")
        # The admin section is named as the provider's documentation names the connector.
        verbose_name_plural = gettext_lazy("Hypatos.ai — Partner connection")


class GenericConnection(Connection):
    PROVIDER_KEY = "generic"
    issuer_url = models.CharField(gettext_lazy("Issuer URL"), max_length=500, blank=True)
    userinfo_url = models.CharField(gettext_lazy("User info URL"), max_length=500, blank=True)
    revocation_url = models.CharField(gettext_lazy("Revocation URL"), max_length=500, blank=True)
    probe_url = models.CharField(gettext_lazy("Probe URL"), max_length=500, blank=True)
    client_authentication = models.CharField(
        gettext_lazy("Client authentication"),
        max_length=40,
        default="client_secret_basic",
    )
    username = models.CharField(gettext_lazy("Username"), max_length=255, blank=True)
    password = SecretCharField(gettext_lazy("Password"), max_length=500, blank=True)
    # RFC 7009: off unless the server is known to revoke single tokens (then Regenerate revokes
    # the replaced refresh token; at a server that ends the whole grant that would end the new
    # authorization too). connectors/revocation.py asks it.
    revokes_single_tokens = models.BooleanField(gettext_lazy("The server revokes single tokens"), default=False)
    # The provider template (connectors/providers/catalog/) and the values entered for it; blank
    # and empty: fully generic.
    template = models.CharField(gettext_lazy("Template"), max_length=40, blank=True)
    # Editable so that export and import carry it; the admin form edits it through one input
    # per parameter (Provider.form_only_fields), never as JSON.
    template_values = models.JSONField(gettext_lazy("Template values"), default=dict, blank=True)
    # Non-secret fields of the last authorization's token answer a template needs (Salesforce's
    # instance_url, where its test request goes).
    token_details = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = gettext_lazy("OpenID Connect / OAuth 2.0 connection")
        # The admin section is named as the provider is.
        verbose_name_plural = gettext_lazy("OpenID Connect / OAuth 2.0 (any provider)")


class Event(models.Model):
    """What happened to a connection, by whom; never holds a secret."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    succeeded = models.BooleanField(default=True)
    # The detail's English text (the only text of events stored before sentences had codes).
    detail = models.CharField(max_length=500, blank=True)
    # The detail as a sentence code and its parameters (connectors/core/sentences.py), rendered in the
    # reader's language; never a secret.
    code = models.CharField(max_length=60, blank=True)
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # The change page's events and the pruning's ranking, per connection, newest first.
        indexes = [models.Index(fields=["connection", "-at", "-id"], name="event_connection_newest")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def message(self):
        """The detail in the reader's language (an old event's stored text as it is)."""
        return sentence_from({"code": self.code, "params": self.params}, self.detail) if self.code else self.detail

    @property
    def action_label(self):
        return str(EVENT_ACTION_LABELS.get(self.action, self.action))


class PartnerHost(models.Model):
    """The renewal circuit of one partner host: after CIRCUIT_THRESHOLD failures in a row its
    connections wait until `open_until`, then one probe (claimed like a connection's renewal)
    finds out whether the host answers again."""

    host = models.CharField(max_length=255, unique=True)
    failures_in_row = models.PositiveIntegerField(default=0)
    probes_failed = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True)
    probe_claimed_by = models.CharField(max_length=64, blank=True)
    probe_claim_expires_at = models.DateTimeField(null=True, blank=True)
    # The host's rate limit, kept by every worker (connectors/engine/host_limits.py): the earliest
    # moment the next token request may start.
    rate_next_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.host


class BulkTest(models.Model):
    """One run of "Test selected connections", done by the worker; its page shows progress."""

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    connection_ids = models.JSONField(default=list)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Bulk test {self.pk}"


class BulkTestOutcome(models.Model):
    bulk_test = models.ForeignKey(BulkTest, on_delete=models.CASCADE, related_name="outcomes")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    passed = models.BooleanField()
    sentence = models.CharField(max_length=500)
    # The sentence as code and parameters (connectors/core/sentences.py), shown in the reader's language.
    sentence_stored = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bulk_test", "connection"], name="one_outcome_per_test")]

    def __str__(self):
        return f"{self.connection_id}: {'passed' if self.passed else 'failed'}"


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


# The methods the proxy forwards (connectors/api/proxy.py); a key may send GET alone by default.
PROXY_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def default_proxy_methods():
    return ["GET"]


class ApiKey(models.Model):
    """A key for one consumer of the token API (connectors/api/). The key itself is shown once at
    creation and stored only as a hash; connectors/store/apikeys.py makes, checks and scopes keys."""

    name = models.CharField(
        gettext_lazy("name"),
        max_length=100,
        unique=True,
        help_text=gettext_lazy("Who uses this key, e.g. “billing-service”."),
    )
    # The key's first characters, stored in clear to find its row (and to tell keys apart in the
    # list); the rest of the key is only in key_hash.
    key_prefix = models.CharField(gettext_lazy("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    connections = models.ManyToManyField(
        Connection,
        blank=True,
        related_name="api_keys",
        verbose_name=gettext_lazy("connections"),
        help_text=gettext_lazy("The connections this key may use."),
    )
    providers = models.JSONField(
        gettext_lazy("providers"),
        default=list,
        blank=True,
        help_text=gettext_lazy("Every connection of these providers, including ones added later."),
    )
    may_obtain_tokens = models.BooleanField(
        gettext_lazy("may obtain tokens"),
        default=False,
        help_text=gettext_lazy("Without it the key reads only the connections' metadata and health."),
    )
    may_proxy = models.BooleanField(
        gettext_lazy("may call partners through the proxy"),
        default=False,
        help_text=gettext_lazy("The key calls the connections' partner APIs through this app, never holding a token."),
    )
    proxy_methods = models.JSONField(
        gettext_lazy("proxy methods"),
        default=default_proxy_methods,
        blank=True,
        help_text=gettext_lazy("The HTTP methods the key may send through the proxy."),
    )
    created_at = models.DateTimeField(gettext_lazy("created"), auto_now_add=True)
    expires_at = models.DateTimeField(
        gettext_lazy("expires"), null=True, blank=True, help_text=gettext_lazy("Blank: never.")
    )
    revoked_at = models.DateTimeField(gettext_lazy("revoked"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(gettext_lazy("last used"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = gettext_lazy("API key")
        verbose_name_plural = gettext_lazy("API keys")
        # Managing keys is its own permission (superusers hold it implicitly), not the usual
        # add/change/delete trio: whoever may hand out tokens must be chosen on purpose.
        default_permissions = ()
        permissions = [("manage_api_keys", gettext_lazy("Can manage API keys"))]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if not isinstance(self.providers, list):
            raise ValidationError({"providers": _("Enter a list of provider keys.")})
        unknown = sorted(str(key) for key in set(map(str, self.providers)) - set(PROVIDERS))
        if unknown:
            raise ValidationError(
                {
                    "providers": _("Unknown providers: %(unknown)s; known: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(PROVIDERS)}
                }
            )
        methods = self.proxy_methods
        if not isinstance(methods, list) or not set(map(str, methods)) <= set(PROXY_METHODS):
            raise ValidationError({"proxy_methods": _("Choose among %(known)s.") % {"known": ", ".join(PROXY_METHODS)}})


class ProxyUsage(models.Model):
    """How many calls went through the proxy to a connection's partner in one minute (a count per
    minute rather than an event per call: a busy consumer must not flood the event log)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="proxy_usage")
    minute = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "minute"], name="one_proxy_count_per_minute")]

    def __str__(self):
        return f"{self.connection_id} {self.minute:%Y-%m-%d %H:%M}: {self.calls}"
