"""Client credentials (RFC 6749 §4.4): the client's own ID and secret get a token whenever one
is needed. Nothing for the operator to do: no Generate, and no stored token is "ready"."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy
from oauthlib.oauth2 import BackendApplicationClient

from connectors.partners import oauth
from connectors.partners.grants.base import Grant, Token
from connectors.partners.providers.base import CLIENT_CREDENTIALS

if TYPE_CHECKING:
    from connectors.models import Connection


class ClientCredentials(Grant):
    key = CLIENT_CREDENTIALS
    label = gettext_lazy("Client credentials")
    words = gettext_lazy("client credentials")
    has_generate_button = False
    token_on_demand = True
    # The client's own token: no user, so a userinfo endpoint refuses it.
    token_acts_for_a_user = False
    required_secrets = ("client_secret",)
    invalid_grant_sentence_code = "invalid_grant_client"

    def fetch_token(self, connection: "Connection") -> Token:
        # requests-oauthlib does not send the session's scope for this grant by itself.
        return oauth.request_token(
            connection, self, BackendApplicationClient(connection.client_id), scope=connection.scope or None
        )

    def account_of(self, connection: "Connection") -> str:
        return connection.client_id


GRANT = ClientCredentials()
