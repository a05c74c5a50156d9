"""The places where the providers' behaviour differs from DOT's defaults."""

import re

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes
from oauthlib.oauth2 import Server

from .seed import APPLICATIONS


class ProviderShapedServer(Server):
    """oauthlib's all-grants server, minus refresh tokens for the password grant.

    Invenias (the password grant) issues no refresh token: a client must ask
    for a new token when the old one is about to expire. The authorization
    code grant (Inverbis) keeps its refresh tokens; client credentials never
    had any.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password_grant.refresh_token = False


class PerApplicationScopes(SettingsScopes):
    """Each seeded client may only get its own scopes, which are also its default.

    So a Hypatos client registered without projects.read gets invalid_scope if
    it asks for it, and a token lacking it (403 at /v2/projects) if it does not.
    """

    def _own_scopes(self, application):
        spec = APPLICATIONS.get(getattr(application, "client_id", None))
        return list(spec["scopes"]) if spec else None

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        own = self._own_scopes(application)
        return own if own is not None else super().get_available_scopes(application, request)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        own = self._own_scopes(application)
        return own if own is not None else super().get_default_scopes(application, request)


class CallbackPerConnectionValidator(OAuth2Validator):
    """A registered `.../oauth/callback/` also admits `.../oauth/callback/<number>/`.

    The application gives every connection a callback URL of its own (the RFC 9700 §4.4 mix-up
    defence); at a real provider each is registered exactly. The suite's connections get new
    ids in every test, so this server admits any of them under the one registered prefix, as a
    Keycloak client registered with the redirect URI `.../oauth/callback/*` does.
    """

    PER_CONNECTION = re.compile(r"/oauth/callback/\d+/(?=$|\?)")

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        if super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs):
            return True
        shared = self.PER_CONNECTION.sub("/oauth/callback/", redirect_uri, count=1)
        return shared != redirect_uri and super().validate_redirect_uri(client_id, shared, request, *args, **kwargs)
