"""Routes shaped like each partner's, plus the login page and /_test/ controls."""

from django.contrib.auth.views import LoginView
from django.urls import path, re_path
from oauth2_provider.views import AuthorizationView

from . import views

realm = "auth/realms/<str:tenant>"
oidc = f"{realm}/protocol/openid-connect"

urlpatterns = [
    path("accounts/login/", LoginView.as_view(template_name="authserver/login.html"), name="login"),
    # Inverbis Analytics (Keycloak)
    path(
        f"{oidc}/auth",
        views.with_issuer(
            views.realm_route(
                views.offline_access_needs_consent(AuthorizationView.as_view(template_name="authserver/authorize.html"))
            )
        ),
        name="inverbis-auth",
    ),
    path(f"{oidc}/token", views.realm_route(views.CountingTokenView.as_view(provider="inverbis"))),
    path(f"{oidc}/userinfo", views.realm_route(views.userinfo)),
    path(f"{oidc}/revoke", views.realm_route(views.CountingRevokeView.as_view(provider="inverbis"))),
    path(f"{realm}/.well-known/openid-configuration", views.realm_route(views.openid_configuration)),
    # Invenias
    path("identity/connect/token", views.CountingTokenView.as_view(provider="invenias")),
    path("api/v1/countries", views.countries),
    # Hypatos
    path("v2/auth/token", views.CountingTokenView.as_view(provider="hypatos")),
    path("v2/projects", views.projects),
    # Any OpenID Connect / OAuth 2.0 server (the generic provider): the issuer is the server's
    # root, its metadata at both well-known addresses (OpenID Connect Discovery, RFC 8414).
    path(".well-known/openid-configuration", views.root_metadata),
    path(".well-known/oauth-authorization-server", views.root_metadata),
    path(
        "oidc/authorize",
        views.with_root_issuer(
            views.offline_access_needs_consent(AuthorizationView.as_view(template_name="authserver/authorize.html"))
        ),
    ),
    path("oidc/token", views.CountingTokenView.as_view(provider="generic")),
    # A conforming userinfo (only `sub` for scope openid), and a revocation that ends the whole
    # grant, as the certified servers do by default.
    path("oidc/userinfo", views.conforming_userinfo),
    path("oidc/revoke", views.GrantEndingRevokeView.as_view(provider="generic")),
    # Servers shaped like particular providers and issuer shapes (tests/authserver/shapes.py):
    # everything under /hosts/<host>/, and RFC 8414's path-inserted metadata address of each.
    re_path(r"^hosts/(?P<host>[a-z0-9.-]+)/(?P<path>.*)$", views.shaped_server),
    re_path(
        r"^\.well-known/oauth-authorization-server/hosts/(?P<host>[a-z0-9.-]+)(?:/(?P<path>.*))?$",
        views.shaped_rfc8414_metadata,
    ),
    # Test controls
    path("_test/stats", views.test_stats),
    path("_test/reset", views.test_reset),
    path("_test/revoke-refresh-tokens", views.test_revoke_refresh_tokens),
    path("_test/expire-access-tokens", views.test_expire_access_tokens),
]
