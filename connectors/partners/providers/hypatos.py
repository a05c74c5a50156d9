"""Hypatos.ai: client credentials with HTTP Basic client authentication."""

from django.utils.translation import gettext_lazy

from connectors.partners.providers.base import CLIENT_CREDENTIALS, Provider

ENDPOINTS = (
    "https://api.cloud.hypatos.ai/v2",
    "https://api.hypatos.com/v2",
    "https://api.dev.hypatos.ai/v2",
)


def default_endpoint():
    """The documented default endpoint (a callable, so migrations name it instead of copying it)."""
    return ENDPOINTS[0]


class Hypatos(Provider):
    def derive_urls(self, values):
        endpoint = (values.get("endpoint_url") or "").rstrip("/")
        return {"token_url": f"{endpoint}/auth/token"} if endpoint else {}

    def api_base_url(self, connection):
        return connection.endpoint_url.rstrip("/") + "/"

    def probe_url(self, connection):
        return connection.endpoint_url.rstrip("/") + "/projects?limit=1"


PROVIDER = Hypatos(
    key="hypatos",
    label=gettext_lazy("Hypatos.ai — Partner connection"),
    short_label=gettext_lazy("Hypatos.ai"),
    model_name="HypatosConnection",
    grant=CLIENT_CREDENTIALS,
    client_authentication="client_secret_basic",
    url_source_fields=gettext_lazy("Endpoint URL"),
    default_scope="",
    allowed_hosts=("api.cloud.hypatos.ai", "api.hypatos.com", "api.dev.hypatos.ai"),
    connection_fields=("name", "endpoint_url"),
    oauth_fields=("client_id", "client_secret", "scope", "token_url"),
    url_fields=("endpoint_url", "token_url"),
    resource_url_fields=("endpoint_url",),
    derived_url_fields=("token_url",),
    url_suggestions={"endpoint_url": ENDPOINTS},
    fixed_values=(("oauth", "grant_type", gettext_lazy("Grant Type"), gettext_lazy("Client Credentials")),),
    probe_forbidden_hint=gettext_lazy(
        "the Scope (or the service account) lacks projects.read: add "
        "projects.read to the Scope and make sure your service account has it."
    ),
    probe_unauthorized_hint=gettext_lazy("check the Scope and the Endpoint URL and test again."),
    help_texts={
        "name": gettext_lazy("Your name for this Hypatos.ai service account; one connection per account."),
        "endpoint_url": gettext_lazy(
            "The Hypatos API server of your service account: "
            "https://api.cloud.hypatos.ai/v2 (default), https://api.hypatos.com/v2 or "
            "https://api.dev.hypatos.ai/v2."
        ),
        "client_id": gettext_lazy("The client ID Hypatos issued with your API service account."),
        "client_secret": gettext_lazy("The client secret issued with that client ID."),
        "scope": gettext_lazy(
            "Space-separated scopes assigned to your service account, e.g. "
            "“projects.read documents.read”. Test Connection needs projects.read."
        ),
        "token_url": gettext_lazy("Where tokens are requested. Leave blank for {endpoint}/auth/token."),
    },
)
