"""Authorization code with PKCE (RFC 6749 §4.1, RFC 7636): the operator logs in at the provider
once (Generate), then the refresh token keeps the connection alive."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy, gettext_noop
from oauthlib.oauth2 import WebApplicationClient

from connectors.core import failures
from connectors.partners import discovery, oauth
from connectors.partners.grants.base import AuthorizationFlow, Generated, Grant, Token
from connectors.partners.providers.base import AUTHORIZATION_CODE

if TYPE_CHECKING:
    from django.http import HttpRequest

    from connectors.models import Connection


class RefreshToken(Grant):
    """The refresh half of the authorization code grant (RFC 6749 §6), for its sentences."""

    key = "refresh_token"
    words = gettext_lazy("refresh token")
    invalid_grant_sentence_code = "invalid_grant_refresh"


REFRESH = RefreshToken()


class AuthorizationCode(Grant):
    key = AUTHORIZATION_CODE
    label = gettext_lazy("Authorization code (with PKCE)")
    words = gettext_lazy("authorization code")
    generate_hint = gettext_lazy("Saves the form, then sends you to the provider's login page and back.")
    dead_grant_reason = gettext_noop("The provider no longer accepts the refresh token.")
    unrenewable_reason = gettext_noop("The token expires and there is no refresh token to renew it.")
    invalid_grant_sentence_code = "invalid_grant"
    renewal_failed_action = "refresh failed"
    operator_logs_in = True
    # Test uses the stored token: no token was issued for the test.
    passed_sentence_code = "test_token_works"
    test_uses_stored_token = True

    def renew(self, connection: "Connection") -> tuple[Token, str]:
        if not connection.refresh_token:
            raise self.not_authorized(connection)
        return oauth.refresh(connection, REFRESH), "refreshed"

    def exchange_code(self, connection: "Connection", code: str, verifier: str, redirect_uri: str) -> Token:
        """The callback's half: the code (and the PKCE verifier) for tokens."""
        return oauth.request_token(
            connection,
            self,
            WebApplicationClient(connection.client_id),
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=verifier,
        )

    def token_for_test(
        self, connection: "Connection", get_access_token: Callable[..., str], *, saved: bool = False
    ) -> str:
        # Only the operator can get the first token: Test uses (and if due, renews) the stored one.
        if not connection.pk:
            raise failures.failure("not_authorized", None, "test_not_authorized_unsaved")
        try:
            return get_access_token(connection)
        except failures.OAuthFailure as failure:
            if failure.kind != "renewal_backoff":
                raise
            # Renewals are backing off and the token has expired: the operator asks now, so try.
            return get_access_token(connection, force=True)

    def generate(self, request: "HttpRequest", connection: "Connection", flow: AuthorizationFlow) -> Generated:
        # Ask the server's discovery document first: a wrong tenant or server is said here, not
        # on a browser error page at the provider.
        document = discovery.check(connection)
        return Generated(redirect_url=flow.authorization_redirect(request, connection, document))

    def account_of(self, connection: "Connection") -> str:
        # The user who logged in, read from userinfo after Generate (connectors/partners/accounts.py).
        return connection.token_account if connection.has_token else ""


GRANT = AuthorizationCode()
