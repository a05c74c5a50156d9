"""The grant strategies, one module each, in an explicit registry (as the providers are).

`of(connection)` is the strategy a connection uses: its grant (`Connection.grant`, chosen by the
operator where the provider offers a choice), else its provider's.
"""

from typing import TYPE_CHECKING

from connectors.partners.grants import authorization_code, client_credentials, password
from connectors.partners.grants.base import Generated, Grant

if TYPE_CHECKING:
    from connectors.models import Connection

GRANTS: dict[str, Grant] = {
    grant.key: grant for grant in (authorization_code.GRANT, password.GRANT, client_credentials.GRANT)
}

__all__ = ["GRANTS", "Generated", "Grant", "get_grant", "of"]


def get_grant(key: str) -> Grant:
    return GRANTS[key]


def of(connection: "Connection") -> Grant:
    # An unknown value (refused by the rules, still on a form's unsaved instance) is no grant.
    return GRANTS.get(connection.grant) or GRANTS[connection.provider_info.grant]
