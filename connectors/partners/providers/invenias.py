"""Invenias: resource owner password grant against the customer's own subdomain."""

from django.utils.translation import gettext_lazy

from connectors.core import validators
from connectors.partners.providers.base import PASSWORD, PartnerLimit, Provider


class Invenias(Provider):
    def derive_urls(self, values):
        subdomain = values.get("subdomain")
        if not subdomain:
            return {}
        base = f"https://{subdomain}.invenias.com"
        return {"token_url": f"{base}/identity/connect/token", "api_url": f"{base}/api/v1/"}

    def extra_token_parameters(self, connection):
        # Invenias' own documentation sends the subdomain along with the password grant.
        return {"subdomain": connection.subdomain} if connection.subdomain else {}

    def api_base_url(self, connection):
        return connection.api_url.rstrip("/") + "/"

    def probe_url(self, connection):
        return connection.api_url.rstrip("/") + "/countries"


PROVIDER = Invenias(
    key="invenias",
    label=gettext_lazy("Invenias"),
    model_name="InveniasConnection",
    grant=PASSWORD,
    # Invenias documents the client credentials in the body, not as HTTP Basic.
    client_authentication="client_secret_post",
    url_source_fields=gettext_lazy("Subdomain"),
    default_scope="openid profile api email",
    allowed_hosts=("*.invenias.com",),
    # Invenias allows 3,000 calls per 5 minutes per tenant, for all calls together: renewals take at
    # most half, so the API calls of the organisation's own code keep the rest.
    renewal_limit=PartnerLimit(concurrency=4, calls=1500, per_seconds=300),
    connection_fields=("name", "subdomain", "api_url"),
    oauth_fields=("client_id", "client_secret", "username", "password", "scope", "token_url"),
    url_fields=("api_url", "token_url"),
    resource_url_fields=("api_url",),
    derived_url_fields=("token_url", "api_url"),
    fixed_values=(("oauth", "grant_type", gettext_lazy("Grant Type"), gettext_lazy("Resource Owner Password")),),
    shows_callback_url=True,
    field_rules={"subdomain": (validators.validate_dns_label,)},
    probe_forbidden_hint=gettext_lazy(
        "the Invenias user lacks API access, or the Scope lacks “api”: add it and test again."
    ),
    probe_unauthorized_hint=gettext_lazy("check that the Scope includes “api” and test again."),
    help_texts={
        "name": gettext_lazy("Your name for this Invenias account; one connection per account."),
        "subdomain": gettext_lazy(
            "The first part of your Invenias portal address: “company” if you log in at https://company.invenias.com."
        ),
        "api_url": gettext_lazy(
            "Leave blank for https://{subdomain}.invenias.com/api/v1/; change it only for "
            "a sandbox your administrator allowed."
        ),
        "client_id": gettext_lazy(
            "The ClientId Invenias returned when you registered this integration as a "
            "third-party application (flow type ResourceOwner)."
        ),
        "client_secret": gettext_lazy("The ClientSecret returned with the client ID."),
        "username": gettext_lazy("The Invenias user the integration acts as: the name you log in to the portal with."),
        "password": gettext_lazy("That user's Invenias password."),
        "scope": gettext_lazy("Space-separated; Invenias expects “openid profile api email”."),
        "token_url": gettext_lazy("Leave blank for https://{subdomain}.invenias.com/identity/connect/token."),
    },
)
