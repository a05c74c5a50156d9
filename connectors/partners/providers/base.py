"""What every provider module declares. A provider is data plus two small functions: how its
URLs follow from the operator's input, and which read-only request proves a token works."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from connectors.models import Connection

AUTHORIZATION_CODE = "authorization_code"
PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"

# Words a person reads: plain text or a gettext_lazy string, translated when shown.
Words = str | Promise


@dataclass(frozen=True)
class PartnerLimit:
    """How hard the renewal worker may press one partner host: at most `concurrency` token
    requests in flight (per worker process), and, when `calls` is set, at most `calls` token
    requests per `per_seconds` (all workers together). A provider declares what its partner
    documents; PARTNER_CONNECTIONS["PARTNER_HOST_LIMITS"] overrides it per host."""

    concurrency: int
    calls: int = 0
    per_seconds: float = 0.0

    @property
    def spacing(self) -> float:
        """Seconds between two token requests that keep to the rate (0: no rate limit)."""
        return self.per_seconds / self.calls if self.calls and self.per_seconds else 0.0


@dataclass(frozen=True)
class Provider:
    key: str
    label: Words
    model_name: str
    grant: str
    default_scope: str
    # Host patterns the provider's URLs may point at; `*` stands for one DNS label.
    allowed_hosts: tuple[str, ...]
    # Field names on each tab, in the order the provider's documentation lists them.
    connection_fields: tuple[str, ...]
    oauth_fields: tuple[str, ...]
    # Every field holding a URL the connection sends credentials or tokens to.
    url_fields: tuple[str, ...] = ()
    # URL fields of the partner's API, the only places besides the test request (probe_url())
    # where the connection's access token is sent (connectors/store/policy.py).
    resource_url_fields: tuple[str, ...] = ()
    # URL fields the operator may leave blank to get the derived default.
    derived_url_fields: tuple[str, ...] = ()
    # Documented values offered for a URL field in a drop-down: {field: (url, ...)}.
    url_suggestions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Read-only lines on a tab: (tab, attribute, label, value), e.g. the fixed grant type.
    fixed_values: tuple[tuple[str, str, Words, Words], ...] = ()
    help_texts: Mapping[str, Words] = field(default_factory=dict)
    # This provider's own rules for its own fields: {field: (check, ...)}. A check raises
    # ValidationError with the sentence to show, and may return a normalized value. The model
    # applies them (connectors/store/rules.py), so a field of the same name at another provider
    # inherits nothing.
    field_rules: Mapping[str, tuple[Callable[[str], Any], ...]] = field(default_factory=dict)
    # RFC 7009: True when revoking one refresh token ends the client's whole grant for that user
    # at this provider (Keycloak does: it removes the consent and every session of the client),
    # so revoking a replaced refresh token would also end the authorization that replaced it.
    revocation_ends_grant: bool = False
    # Whether the operator registers our callback (reply) URL at the provider.
    shows_callback_url: bool = False
    # What to fix when the test request is refused with 403 (token fine, permission missing) or
    # 401 (token not accepted by the API).
    probe_forbidden_hint: Words = gettext_lazy("the account or its scope lacks a permission the API needs.")
    # What to check when a token the provider has just issued (or renewed) is refused by the probe.
    probe_unauthorized_hint: Words = gettext_lazy("check the Scope and the URLs the test request is sent to.")
    # The provider's name where space is short (the overview's column); `label` names sections.
    short_label: Words = ""
    # Keycloak-style discovery document checked before Generate leaves the app ("" = none).
    discovery_path: str = ""
    # What the partner allows the renewal worker at one host (None: RENEWAL_HOST_CONCURRENCY
    # in flight, no rate limit; connectors/engine/host_limits.py).
    renewal_limit: PartnerLimit | None = None

    @property
    def short_name(self) -> Words:
        return self.short_label or self.label

    # How the client authenticates at the token endpoint, in RFC 8414's vocabulary:
    # "client_secret_basic", "client_secret_post" or "none" (connectors/partners/oauth.py applies it).
    client_authentication: str = "client_secret_post"
    # Grants the operator chooses between per connection (empty: always `grant`).
    grant_choices: tuple[str, ...] = ()
    # Fields offered as a drop-down: {field: callable returning [(value, label), ...]} (a
    # callable, so that no label is copied into a migration).
    field_choices: Mapping[str, Callable[[], list[tuple[str, Any]]]] = field(default_factory=dict)
    # Where the hosts come from in a failure sentence: "check the URL and the fields it is
    # derived from (…)"; empty when every URL is typed as it is.
    url_source_fields: "str | Promise" = ""

    def client_authentication_of(self, connection: "Connection") -> str:
        """The client authentication method this connection uses (the provider's own)."""
        return self.client_authentication

    def extra_errors(self, connection: "Connection") -> dict[str, str]:
        """{field: sentence} for what the provider requires beyond each field's own rules (e.g.
        the endpoints its chosen grant needs); the model adds them to full_clean()'s errors."""
        return {}

    def discover(self, values: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
        """({field: value} to fill blank fields with, {field: sentence} when that failed), from
        the network, before the admin's form is validated (connectors/admin/prefill.py); runs outside
        any transaction. Most providers derive their URLs without asking anyone: ({}, {})."""
        return {}, {}

    def form_only_fields(self) -> dict[str, tuple[Any, Any]]:
        """{form field: (label, help text)} of inputs the form shows that are no model field (the
        generic provider's template parameters); stored by store_form_only_values()."""
        return {}

    def field_notes(self, connection: "Connection") -> dict[str, Any]:
        """{field: sentence} added to a field's help for this connection (a template's quirks)."""
        return {}

    def widget_attributes(self) -> dict[str, dict[str, str]]:
        """{field: HTML attributes} the form's scripts read (e.g. which inputs a choice needs)."""
        return {}

    def form_only_initial(self, connection: "Connection") -> dict[str, str]:
        return {}

    def store_form_only_values(self, connection: "Connection", values: Mapping[str, Any]) -> None:
        """Put the form-only inputs' values on the connection before its rules run."""

    def derive_urls(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Return {url field: default URL} from the form's other values ({} when not derivable)."""
        return {}

    def extra_token_parameters(self, connection: "Connection") -> dict[str, str]:
        """Provider-specific fields added to the body of its token requests."""
        return {}

    def extra_authorization_parameters(self, connection: "Connection") -> dict[str, str]:
        """Provider-specific parameters added to the authorization request (e.g. Google's
        access_type=offline)."""
        return {}

    def details_from_token(self, connection: "Connection", token: Mapping[str, Any]) -> dict[str, str]:
        """Non-secret fields of a new authorization's token answer to keep (e.g. Salesforce's
        instance_url); {} when the provider needs none."""
        return {}

    def revocation_ends_grant_of(self, connection: "Connection") -> bool:
        """Whether revoking one of this connection's refresh tokens ends its whole grant (see
        revocation_ends_grant); the generic provider asks the connection."""
        return self.revocation_ends_grant

    def issuer(self, connection: "Connection") -> str | None:
        """The issuer identifier of the connection's authorization server (RFC 8414/9207), the
        value its authorization answers carry as `iss`; None when the provider has none."""
        return None

    def probe_url(self, connection: "Connection") -> str:
        """The cheap read-only request that proves a token works (GET with the bearer token)."""
        raise NotImplementedError

    def account_url(self, connection: "Connection") -> str:
        """Where the account a token acts for is read after Generate (an OpenID Connect userinfo;
        Keycloak's is also its probe)."""
        return self.probe_url(connection)

    def api_base_url(self, connection: "Connection") -> str:
        """Where the partner's API lives: the proxy (connectors/api/proxy.py) sends paths under
        it. By default the origin of the probe URL."""
        parts = urlsplit(self.probe_url(connection))
        return f"{parts.scheme}://{parts.netloc}/"

    def revocation_url(self, connection: "Connection") -> str:
        """The RFC 7009 revocation endpoint, or "" when the provider has none."""
        return ""
