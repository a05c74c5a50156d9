"""What every provider module declares. A provider is data plus two small functions: how its
URLs follow from the operator's input, and which read-only request proves a token works."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from ..models import Connection

AUTHORIZATION_CODE = "authorization_code"
PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"

# Words a person reads: plain text or a gettext_lazy string, translated when shown.
Words = str | Promise


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
    # URL fields the operator may leave blank to get the derived default.
    derived_url_fields: tuple[str, ...] = ()
    # Documented values offered for a URL field in a drop-down: {field: (url, ...)}.
    url_suggestions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Read-only lines on a tab: (tab, attribute, label, value), e.g. the fixed grant type.
    fixed_values: tuple[tuple[str, str, Words, Words], ...] = ()
    help_texts: Mapping[str, Words] = field(default_factory=dict)
    # This provider's own rules for its own fields: {field: (check, ...)}. A check raises
    # ValidationError with the sentence to show, and may return a normalized value. The model
    # applies them (connectors/rules.py), so a field of the same name at another provider
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
    probe_unauthorized_hint: Words = gettext_lazy("click Regenerate to get a new token.")
    # The provider's name where space is short (the overview's column); `label` names sections.
    short_label: Words = ""
    # Keycloak-style discovery document checked before Generate leaves the app ("" = none).
    discovery_path: str = ""

    @property
    def short_name(self) -> Words:
        return self.short_label or self.label

    @property
    def has_generate_button(self) -> bool:
        # Client credentials needs no operator action: tokens are fetched on demand.
        return self.grant in (AUTHORIZATION_CODE, PASSWORD)

    def derive_urls(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Return {url field: default URL} from the form's other values ({} when not derivable)."""
        return {}

    def extra_token_parameters(self, connection: "Connection") -> dict[str, str]:
        """Provider-specific fields added to the body of its token requests."""
        return {}

    def issuer(self, connection: "Connection") -> str | None:
        """The issuer identifier of the connection's authorization server (RFC 8414/9207), the
        value its authorization answers carry as `iss`; None when the provider has none."""
        return None

    def probe_url(self, connection: "Connection") -> str:
        """The cheap read-only request that proves a token works (GET with the bearer token)."""
        raise NotImplementedError

    def revocation_url(self, connection: "Connection") -> str:
        """The RFC 7009 revocation endpoint, or "" when the provider has none."""
        return ""
