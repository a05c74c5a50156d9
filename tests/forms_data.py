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
# The generic provider has no hosts of its own: its example is on a host the test settings allow
# (EXTRA_ALLOWED_HOSTS), endpoints typed (no issuer, so nothing is discovered).
GENERIC = {
    "name": "Partner sandbox",
    "issuer_url": "",
    "authorization_url": "https://127.0.0.1:8443/oidc/authorize",
    "token_url": "https://127.0.0.1:8443/oidc/token",
    "userinfo_url": "https://127.0.0.1:8443/oidc/userinfo",
    "revocation_url": "",
    "probe_url": "",
    "grant": "authorization_code",
    "client_authentication": "client_secret_basic",
    "client_id": "partner-client",
    "client_secret": "partner-client-secret-value",
    "username": "",
    "password": "",
    "scope": "openid offline_access",
}
BY_MODEL = {
    "inverbisconnection": INVERBIS,
    "inveniasconnection": INVENIAS,
    "hypatosconnection": HYPATOS,
    "genericconnection": GENERIC,
}

# (model, field, value) the form refuses on that field, and so does the model's full_clean().
LONG_LABEL = "a" * 64
BAD_INPUT = [
    ("inveniasconnection", "subdomain", "evil.com/x"),
    ("inveniasconnection", "subdomain", "a b"),
    ("inveniasconnection", "subdomain", "-x"),
    ("inveniasconnection", "subdomain", LONG_LABEL),
    ("inveniasconnection", "subdomain", "cоmpany"),  # Cyrillic "о"
    ("inveniasconnection", "subdomain", "company\r\nX-Injected: 1"),
    ("inveniasconnection", "username", "bob\nadmin"),
    ("inveniasconnection", "api_url", "http://company.invenias.com/api/v1/"),
    ("inveniasconnection", "token_url", "https://evil.example/identity/connect/token"),
    ("inveniasconnection", "token_url", "https://company.invenias.com.evil.example/token"),
    ("inveniasconnection", "scope", 'openid "api"'),
    ("inveniasconnection", "scope", "openid\tapi"),
    ("inverbisconnection", "server", "evil.com/x"),
    ("inverbisconnection", "server", "-x"),
    ("inverbisconnection", "server", LONG_LABEL),
    ("inverbisconnection", "tenant", "a b"),
    ("inverbisconnection", "tenant", "../admin"),
    ("inverbisconnection", "tenant", "acme\n"),
    ("inverbisconnection", "authorization_url", "javascript:alert(1)"),
    ("inverbisconnection", "authorization_url", "http://identity.inverbisanalytics.com/auth"),
    ("inverbisconnection", "authorization_url", "https://identity.inverbisanaIytics.com/auth"),
    ("inverbisconnection", "authorization_url", "https://identity.іnverbisanalytics.com/auth"),  # Cyrillic і
    ("inverbisconnection", "authorization_url", "https://identity.io\\.inverbisanalytics.com/auth"),
    ("inverbisconnection", "authorization_url", "https://identity.evil%2Eexample.inverbisanalytics.com/auth"),
    ("inverbisconnection", "token_url", "https://user:pw@identity.inverbisanalytics.com/token"),
    ("inverbisconnection", "token_url", "https://identity.inverbisanalytics.com:8443/token"),
    ("inverbisconnection", "token_url", "https://identity.inverbisanalytics.com/token?x=1"),
    ("inverbisconnection", "token_url", "https://identity.inverbisanalytics.com/" + "t" * 600),
    ("inverbisconnection", "client_id", "x" * 256),
    ("inverbisconnection", "name", "n" * 101),
    ("inverbisconnection", "name", "line\u2028break"),
    ("hypatosconnection", "endpoint_url", "https://evil.com/v2"),
    ("hypatosconnection", "endpoint_url", "evil.com/x"),
    ("hypatosconnection", "endpoint_url", "javascript:alert(1)"),
    ("hypatosconnection", "token_url", "http://api.cloud.hypatos.ai/v2/auth/token"),
    ("hypatosconnection", "client_secret", "secret\r\n"),
    ("hypatosconnection", "scope", "projects.read\\x"),
    ("hypatosconnection", "scope", "projects.réad"),
    ("genericconnection", "issuer_url", "https://login.partner.example/"),  # not in EXTRA_ALLOWED_HOSTS
    ("genericconnection", "token_url", "https://login.partner.example/token"),
    ("genericconnection", "token_url", ""),  # no issuer to discover it from
    ("genericconnection", "authorization_url", ""),  # the authorization code grant needs it
    ("genericconnection", "userinfo_url", "http://partner.example/userinfo"),
    ("genericconnection", "grant", "implicit"),
    ("genericconnection", "client_authentication", "private_key_jwt"),
    ("genericconnection", "scope", 'openid "x"'),
]


def add_url(model):
    return f"/admin/connectors/{model}/add/"


def change_url(model, pk):
    return f"/admin/connectors/{model}/{pk}/change/"
