"""The two places where the providers' behaviour differs from DOT's defaults."""

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
