"""Valid form submissions per provider, as the seeds' examples give them."""

INVERBIS = {
    "name": "Inverbis production",
    "server": "",
    "tenant": "acme",
    "client_id": "partner-connections",
    "client_secret": "",
    "authorization_url": "",
    "token_url": "",
    "scope": "openid offline_access",
}
INVENIAS = {
    "name": "Invenias company",
    "subdomain": "company",
    "api_url": "",
    "client_id": "client-123",
    "client_secret": "invenias-client-secret-value",
    "username": "integration@company.example",
    "password": "invenias-password-value",
    "scope": "openid profile api email",
    "token_url": "",
}
HYPATOS = {
    "name": "Hypatos studio",
    "endpoint_url": "https://api.cloud.hypatos.ai/v2",
    "client_id": "hypatos-client",
    "client_secret": "hypatos-client-secret-value",
    "scope": "projects.read documents.read",
    "token_url": "",
}
BY_MODEL = {"inverbisconnection": INVERBIS, "inveniasconnection": INVENIAS, "hypatosconnection": HYPATOS}


def add_url(model):
    return f"/admin/connectors/{model}/add/"


def change_url(model, pk):
    return f"/admin/connectors/{model}/{pk}/change/"
