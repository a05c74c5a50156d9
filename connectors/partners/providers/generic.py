"""OpenID Connect / OAuth 2.0 (any provider): for partners not in the list.

The operator types the issuer (or its metadata document's address); discovery (OpenID Connect
Discovery, RFC 8414) fills the endpoints, which stay visible and editable. The grant and the
client authentication are the operator's choice per connection. It has no hosts of its own: an
administrator allows the partner's host with EXTRA_ALLOWED_HOSTS.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.core import failures, validators
from connectors.core.app_settings import app_settings
from connectors.partners import discovery
from connectors.partners.providers.base import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD, Provider

# The model field filled from each metadata name (connectors/partners/discovery.py).
DISCOVERED_FIELDS = {
    "authorization_endpoint": "authorization_url",
    "token_endpoint": "token_url",
    "userinfo_endpoint": "userinfo_url",
    "revocation_endpoint": "revocation_url",
}


# What each grant needs of this form beyond the token endpoint: {grant: {field: sentence}}.
FIELDS_EACH_GRANT_NEEDS = {
    AUTHORIZATION_CODE: {
        "authorization_url": gettext_lazy(
            "The authorization code grant needs the authorization endpoint: enter it, or an Issuer URL "
            "whose discovery document names it."
        )
    },
    PASSWORD: {"username": gettext_lazy("The password grant needs the username of the account it acts as.")},
}


def grant_choices():
    return [
        (AUTHORIZATION_CODE, _("Authorization code with PKCE (a person logs in once)")),
        (CLIENT_CREDENTIALS, _("Client credentials (the client's own ID and secret)")),
        (PASSWORD, _("Resource owner password (a stored username and password)")),
    ]


def client_authentication_choices():
    """RFC 8414's token_endpoint_auth_method values."""
    return [
        ("client_secret_basic", _("client_secret_basic: ID and secret as HTTP Basic")),
        ("client_secret_post", _("client_secret_post: ID and secret in the request body")),
        ("none", _("none: a public client, the ID alone (with PKCE)")),
    ]


def validate_client_authentication(value):
    if value not in (method for method, _label in client_authentication_choices()):
        raise ValidationError(
            _("Choose client_secret_basic, client_secret_post or none (the partner's supported methods)."),
            code="client_authentication",
        )


class Generic(Provider):
    def client_authentication_of(self, connection):
        return getattr(connection, "client_authentication", "") or self.client_authentication

    def discover(self, values):
        """Blank endpoints from the issuer's metadata, when an issuer is typed."""
        issuer = (values.get("issuer_url") or "").strip()
        blank = [field for field in DISCOVERED_FIELDS.values() if not (values.get(field) or "").strip()]
        if not issuer or not blank:
            return {}, {}
        try:
            validators.validate_outbound_url(issuer, self.allowed_hosts, app_settings.EXTRA_ALLOWED_HOSTS)
            for url in discovery.metadata_urls(issuer):
                validators.validate_outbound_url(url, self.allowed_hosts, app_settings.EXTRA_ALLOWED_HOSTS)
        except ValidationError:
            return {}, {}  # the issuer field's own rule says what is wrong with it
        try:
            document = discovery.fetch_metadata(issuer)
        except failures.OAuthFailure as failure:
            # Only a blank token endpoint makes it the operator's problem: the rest is optional.
            return {}, ({"issuer_url": failure.message} if "token_url" in blank else {})
        found = discovery.endpoints(document)
        filled = {field: found[name] for name, field in DISCOVERED_FIELDS.items() if field in blank and name in found}
        return filled, {}

    def derive_urls(self, values):
        # The test request goes to the user info endpoint unless another is given.
        userinfo = values.get("userinfo_url")
        return {"probe_url": userinfo} if userinfo else {}

    def extra_errors(self, connection):
        errors = {}
        if not connection.token_url:
            errors["token_url"] = _(
                "Enter the token endpoint, or an Issuer URL whose discovery document names it (saving fills it in)."
            )
        for name, sentence in FIELDS_EACH_GRANT_NEEDS.get(connection.grant, {}).items():
            if not getattr(connection, name, ""):
                errors[name] = str(sentence)
        return errors

    def issuer(self, connection):
        # RFC 9207: the issuer the operator typed (never the server's own claim), which answers
        # must name when they name one; from a metadata address, the issuer it belongs to.
        typed = (getattr(connection, "issuer_url", "") or "").rstrip("/")
        if not typed:
            return None
        if discovery.OPENID_CONFIGURATION in typed:
            return typed.split(discovery.OPENID_CONFIGURATION, 1)[0]
        if discovery.OAUTH_AUTHORIZATION_SERVER in typed:
            origin, _separator, path = typed.partition(discovery.OAUTH_AUTHORIZATION_SERVER)
            return origin + path
        return typed

    def probe_url(self, connection):
        return connection.probe_url or connection.userinfo_url

    def revocation_url(self, connection):
        return connection.revocation_url


PROVIDER = Generic(
    key="generic",
    label=gettext_lazy("OpenID Connect / OAuth 2.0 (any provider)"),
    model_name="GenericConnection",
    grant=AUTHORIZATION_CODE,
    grant_choices=(AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD),
    client_authentication="client_secret_basic",
    default_scope="openid",
    # None of its own: every host is one an administrator allowed (EXTRA_ALLOWED_HOSTS).
    allowed_hosts=(),
    connection_fields=(
        "name",
        "issuer_url",
        "authorization_url",
        "token_url",
        "userinfo_url",
        "revocation_url",
        "probe_url",
    ),
    oauth_fields=(
        "grant",
        "client_authentication",
        "client_id",
        "client_secret",
        "username",
        "password",
        "scope",
    ),
    url_fields=("issuer_url", "authorization_url", "token_url", "userinfo_url", "revocation_url", "probe_url"),
    resource_url_fields=("userinfo_url", "probe_url"),
    derived_url_fields=("probe_url",),
    field_choices={"grant": grant_choices, "client_authentication": client_authentication_choices},
    field_rules={"client_authentication": (validate_client_authentication,)},
    shows_callback_url=True,
    url_source_fields=gettext_lazy("Issuer URL"),
    probe_forbidden_hint=gettext_lazy("the account or the Scope lacks a permission the test request needs."),
    probe_unauthorized_hint=gettext_lazy("check the Scope and the Probe URL, then click Regenerate or test again."),
    help_texts={
        "name": gettext_lazy("Your name for this account at the partner; one connection per account."),
        "issuer_url": gettext_lazy(
            "The partner's issuer, e.g. https://login.partner.example/realms/acme, or the address of its "
            "discovery document. Saving with blank endpoints fills them in from its discovery document."
        ),
        "authorization_url": gettext_lazy("Where Generate sends you to log in (authorization code grant)."),
        "token_url": gettext_lazy("Where tokens are requested."),
        "userinfo_url": gettext_lazy("The user info endpoint (OpenID Connect); the default test request."),
        "revocation_url": gettext_lazy("RFC 7009 revocation endpoint; a replaced refresh token is revoked there."),
        "probe_url": gettext_lazy(
            "A cheap read-only address Test Connection calls with the token. Leave blank for the user info endpoint."
        ),
        "grant": gettext_lazy("How tokens are obtained; ask the partner which grant your client may use."),
        "client_authentication": gettext_lazy(
            "How the client identifies itself at the token endpoint (the partner's "
            "token_endpoint_auth_methods_supported)."
        ),
        "client_id": gettext_lazy("The client ID the partner registered for this integration."),
        "client_secret": gettext_lazy("The client secret; blank for a public client (client authentication none)."),
        "username": gettext_lazy("Password grant only: the account the integration acts as."),
        "password": gettext_lazy("Password grant only: that account's password."),
        "scope": gettext_lazy("Space-separated scopes, e.g. “openid offline_access”."),
    },
)
