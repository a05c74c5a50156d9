"""Inverbis Analytics: authorization code with PKCE for a public client, Keycloak realm URLs."""

from django.utils.translation import gettext_lazy

from connectors.core import validators
from connectors.partners.providers.base import AUTHORIZATION_CODE, Provider

KEYCLOAK_PATH = "/auth/realms/{tenant}/protocol/openid-connect/{endpoint}"


def identity_host(server):
    return f"identity.{server}.inverbisanalytics.com" if server else "identity.inverbisanalytics.com"


class Inverbis(Provider):
    def derive_urls(self, values):
        tenant = values.get("tenant")
        if not tenant:
            return {}
        base = "https://" + identity_host(values.get("server") or "")
        return {
            "authorization_url": base + KEYCLOAK_PATH.format(tenant=tenant, endpoint="auth"),
            "token_url": base + KEYCLOAK_PATH.format(tenant=tenant, endpoint="token"),
        }

    def issuer(self, connection):
        # A Keycloak realm's issuer is the realm URL: the authorization URL without its
        # /protocol/openid-connect/auth ending.
        realm, separator, _endpoint = (connection.authorization_url or "").partition("/protocol/openid-connect/")
        return realm if separator else None

    def probe_url(self, connection):
        # Keycloak serves the user's profile next to the token endpoint.
        return connection.token_url.rsplit("/", 1)[0] + "/userinfo"

    def revocation_url(self, connection):
        # Keycloak's RFC 7009 endpoint, next to the token endpoint.
        return connection.token_url.rsplit("/", 1)[0] + "/revoke" if connection.token_url else ""


PROVIDER = Inverbis(
    key="inverbis",
    label=gettext_lazy("Inverbis Analytics — Partner connection"),
    short_label=gettext_lazy("Inverbis Analytics"),
    model_name="InverbisConnection",
    grant=AUTHORIZATION_CODE,
    # A public client: the client ID goes in the body, a secret only when one is configured.
    client_authentication="client_secret_post",
    url_source_fields=gettext_lazy("Server and Tenant"),
    default_scope="openid offline_access",
    allowed_hosts=("identity.inverbisanalytics.com", "identity.*.inverbisanalytics.com"),
    connection_fields=("name", "server", "tenant"),
    oauth_fields=("client_id", "client_secret", "authorization_url", "token_url", "scope"),
    url_fields=("authorization_url", "token_url"),
    derived_url_fields=("authorization_url", "token_url"),
    fixed_values=(
        ("connection", "authentication_type", gettext_lazy("Authentication Type"), gettext_lazy("OAuth 2.0")),
    ),
    shows_callback_url=True,
    field_rules={"server": (validators.validate_dns_label,), "tenant": (validators.validate_realm,)},
    revocation_ends_grant=True,
    discovery_path="/.well-known/openid-configuration",
    probe_forbidden_hint=gettext_lazy(
        "the user profile may not be read: add “openid” to the Scope and click Regenerate."
    ),
    probe_unauthorized_hint=gettext_lazy("check that the Scope includes “openid”, and the Server and Tenant fields."),
    help_texts={
        "name": gettext_lazy("Your name for this Inverbis Analytics account; one connection per account."),
        "server": gettext_lazy(
            "The environment part of your identity host, e.g. “eu” for "
            "identity.eu.inverbisanalytics.com. Leave blank for identity.inverbisanalytics.com."
        ),
        "tenant": gettext_lazy(
            "Your Keycloak realm at Inverbis Analytics, as it appears in your login URL after /auth/realms/."
        ),
        "client_id": gettext_lazy("The client ID of the application registered for you at Inverbis Analytics."),
        "client_secret": gettext_lazy(
            "Normally left blank: Inverbis Analytics registers integrations as public "
            "clients, secured with PKCE instead of a secret."
        ),
        "authorization_url": gettext_lazy(
            "Where Generate sends you to log in. Leave blank to derive it from "
            "server and tenant (…/protocol/openid-connect/auth)."
        ),
        "token_url": gettext_lazy(
            "Where the authorization code is exchanged for tokens. Leave blank to derive "
            "it from server and tenant (…/protocol/openid-connect/token)."
        ),
        "scope": gettext_lazy(
            "Optional, space-separated. “offline_access” asks for a refresh token that keeps "
            "the connection alive while nobody is logged in."
        ),
    },
)
