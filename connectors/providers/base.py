"""What every provider module declares. A provider is data plus two small functions: how its
URLs follow from the operator's input, and which read-only request proves a token works."""

from dataclasses import dataclass, field

AUTHORIZATION_CODE = "authorization_code"
PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    model_name: str
    grant: str
    default_scope: str
    # Host patterns the provider's URLs may point at; `*` stands for one DNS label.
    allowed_hosts: tuple
    # Field names on each tab, in the order the provider's documentation lists them.
    connection_fields: tuple
    oauth_fields: tuple
    # Every field holding a URL the connection sends credentials or tokens to.
    url_fields: tuple = ()
    # URL fields the operator may leave blank to get the derived default.
    derived_url_fields: tuple = ()
    # Documented values offered for a URL field in a drop-down: {field: (url, ...)}.
    url_suggestions: dict = field(default_factory=dict)
    # Read-only lines on a tab: (tab, attribute, label, value), e.g. the fixed grant type.
    fixed_values: tuple = ()
    help_texts: dict = field(default_factory=dict)
    # Whether the operator registers our callback (reply) URL at the provider.
    shows_callback_url: bool = False
    # What to fix when the test request is refused with 403 (token fine, permission missing) or
    # 401 (token not accepted by the API).
    probe_forbidden_hint: str = "the account or its scope lacks a permission the API needs."
    probe_unauthorized_hint: str = "click Regenerate to get a new token."

    @property
    def has_generate_button(self):
        # Client credentials needs no operator action: tokens are fetched on demand.
        return self.grant in (AUTHORIZATION_CODE, PASSWORD)

    def derive_urls(self, values):
        """Return {url field: default URL} from the form's other values ({} when not derivable)."""
        return {}

    def extra_token_parameters(self, connection):
        """Provider-specific fields added to the body of its token requests."""
        return {}

    def probe_url(self, connection):
        """The cheap read-only request that proves a token works (GET with the bearer token)."""
        raise NotImplementedError
