"""Fixed test users and OAuth clients, and the step that writes them to the DB.

``CREDENTIALS`` is the one place the tests (and a demo) read them from. This
module imports Django lazily so that the fixtures can read the constants
without configuring Django in the test process.
"""

import os

TENANT = "acme"  # the one Keycloak realm the Inverbis routes know

# Registered redirect URIs of the Inverbis client. DOT ignores the port of
# http://127.0.0.1 (RFC 8252 section 7.3) and, with ALLOW_LOCALHOST_LOOPBACK,
# of http://localhost, so any live server port matches. Override with
# AUTHSERVER_REDIRECT_URIS (space separated) or --redirect-uris.
DEFAULT_REDIRECT_URIS = "http://127.0.0.1/oauth/callback/ http://localhost/oauth/callback/"

CREDENTIALS = {
    "username": "operator",
    "password": "correct horse",
    "first_name": "Olga",
    "last_name": "Operator",
    "email": "operator@example.com",
    "tenant": TENANT,
    # Inverbis: public client, authorization code + PKCE (S256), no secret.
    "inverbis_client_id": "inverbis-public-client",
    # Invenias: confidential client, resource owner password grant.
    "invenias_client_id": "invenias-client",
    "invenias_client_secret": "invenias-secret-0123456789",
    # Hypatos: confidential client, client credentials with HTTP Basic.
    "hypatos_client_id": "hypatos-client",
    "hypatos_client_secret": "hypatos-secret-0123456789",
    # Hypatos client that may not have projects.read: its tokens get 403 on
    # /v2/projects, and asking it for projects.read is invalid_scope.
    "hypatos_limited_client_id": "hypatos-limited-client",
    "hypatos_limited_client_secret": "hypatos-limited-secret-0123456789",
    # Hypatos client whose ID and secret hold the characters RFC 6749 §2.3.1 makes a client
    # form-encode before HTTP Basic: the server decodes them per the RFC (unquote_plus), so a
    # client that sends them raw is refused with invalid_client.
    "hypatos_strict_client_id": "hypatos:strict+client",
    "hypatos_strict_client_secret": "s+e/c=r%2Bt:1 2%",
    # Any OpenID Connect provider (the generic provider): a confidential client with the
    # authorization code grant (PKCE), its secret sent as form-encoded HTTP Basic.
    "generic_client_id": "generic-code-client",
    "generic_client_secret": "generic+secret/0123456789",
}

# Per client: name, client type, grant, secret (None for public) and the only
# scopes it may be granted (also its default scopes when none are requested;
# see tests.authserver.oauth.PerApplicationScopes).
APPLICATIONS = {
    CREDENTIALS["inverbis_client_id"]: {
        "name": "Inverbis Analytics",
        "client_type": "public",
        "grant": "authorization-code",
        "secret": None,
        "scopes": ["openid", "offline_access", "profile", "email"],
    },
    CREDENTIALS["invenias_client_id"]: {
        "name": "Invenias",
        "client_type": "confidential",
        "grant": "password",
        "secret": CREDENTIALS["invenias_client_secret"],
        "scopes": ["openid", "profile", "api", "email"],
    },
    CREDENTIALS["hypatos_client_id"]: {
        "name": "Hypatos",
        "client_type": "confidential",
        "grant": "client-credentials",
        "secret": CREDENTIALS["hypatos_client_secret"],
        "scopes": ["projects.read", "documents.read"],
    },
    CREDENTIALS["hypatos_limited_client_id"]: {
        "name": "Hypatos (documents only)",
        "client_type": "confidential",
        "grant": "client-credentials",
        "secret": CREDENTIALS["hypatos_limited_client_secret"],
        "scopes": ["documents.read"],
    },
    CREDENTIALS["hypatos_strict_client_id"]: {
        "name": "Hypatos (form-encoded credentials)",
        "client_type": "confidential",
        "grant": "client-credentials",
        "secret": CREDENTIALS["hypatos_strict_client_secret"],
        "scopes": ["projects.read", "documents.read"],
    },
    CREDENTIALS["generic_client_id"]: {
        "name": "Any OpenID Connect provider",
        "client_type": "confidential",
        "grant": "authorization-code",
        "secret": CREDENTIALS["generic_client_secret"],
        # Salesforce's templates ask for api and refresh_token (its name for offline access).
        "scopes": ["openid", "offline_access", "profile", "email", "api", "refresh_token"],
    },
}


def redirect_uris():
    return os.environ.get("AUTHSERVER_REDIRECT_URIS") or DEFAULT_REDIRECT_URIS


def seed():
    """Create or update the fixed user and applications (idempotent)."""
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import get_application_model

    User = get_user_model()
    user, _ = User.objects.get_or_create(username=CREDENTIALS["username"])
    user.set_password(CREDENTIALS["password"])
    # What a conforming userinfo answers for scopes profile and email.
    user.first_name, user.last_name = CREDENTIALS["first_name"], CREDENTIALS["last_name"]
    user.email = CREDENTIALS["email"]
    user.save()

    Application = get_application_model()
    for client_id, spec in APPLICATIONS.items():
        app = Application.objects.filter(client_id=client_id).first() or Application(client_id=client_id)
        app.name = spec["name"]
        app.client_type = spec["client_type"]
        app.authorization_grant_type = spec["grant"]
        # DOT hashes a secret on save; a public client stores none at all.
        app.client_secret = spec["secret"] or ""
        app.hash_client_secret = bool(spec["secret"])
        app.redirect_uris = redirect_uris() if spec["grant"] == "authorization-code" else ""
        app.skip_authorization = False  # always show the consent page
        app.save()
