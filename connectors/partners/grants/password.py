"""Resource owner password credentials (RFC 6749 §4.3): the stored username and password get a
token whenever one is needed; there is usually no refresh token, so renewing asks again."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy
from oauthlib.oauth2 import LegacyApplicationClient

from connectors.partners import oauth
from connectors.partners.grants.base import AuthorizationFlow, Generated, Grant, Token
from connectors.partners.providers.base import PASSWORD

if TYPE_CHECKING:
    from django.http import HttpRequest

    from connectors.models import Connection


class Password(Grant):
    key = PASSWORD
    label = gettext_lazy("Resource owner password")
    words = gettext_lazy("password")
    generate_hint = gettext_lazy("Saves the form, then asks the provider for a token with these credentials.")
    # A refused password is a refusal of the settings (connectors/store/health.py): the operator
    # corrects the Username or Password; Regenerate with the same ones would only be refused again.
    refused_grant_fields = ("username", "password")
    required_secrets = ("client_secret", "password")
    invalid_grant_sentence_code = "invalid_grant_password"

    def fetch_token(self, connection: "Connection") -> Token:
        return oauth.request_token(
            connection,
            self,
            LegacyApplicationClient(connection.client_id),
            # The provider's model has them (Invenias', the generic one's): the grant needs them.
            username=getattr(connection, "username", ""),
            password=getattr(connection, "password", ""),
            scope=connection.scope or None,
        )

    def generate(self, request: "HttpRequest", connection: "Connection", flow: AuthorizationFlow) -> Generated:
        missing = self.missing_secret(connection, "generate")
        if missing:
            # Said here, before the provider is asked with empty credentials.
            return Generated(sentence=missing)
        succeeded, sentence = flow.token_now(connection, self, request.user)
        return Generated(succeeded=succeeded, sentence=sentence)

    def account_of(self, connection: "Connection") -> str:
        return getattr(connection, "username", "") if connection.has_token else ""


GRANT = Password()
