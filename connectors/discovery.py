"""The check Generate makes before sending the operator to the provider: does the realm exist?

Keycloak publishes each realm's OpenID Connect discovery document at
`/auth/realms/{tenant}/.well-known/openid-configuration`. Asking it first turns a wrong tenant
("Realm does not exist", 404) or a wrong server (a host that cannot be found) into a sentence in
the app, instead of a browser error page at the provider's.
"""

from . import answers, failures, oauth
from .http import json_body, partner_session

OIDC_SEGMENT = "/protocol/openid-connect/"


def discovery_url(connection):
    """The realm's discovery document, when the authorization URL is a Keycloak realm's; else None."""
    if not connection.provider_info.discovery_path:
        return None
    base, found, _rest = connection.authorization_url.partition(OIDC_SEGMENT)
    if not found:
        return None  # a URL the operator typed in another shape: nothing to derive the realm from
    return base + connection.provider_info.discovery_path


def check(connection):
    """Raise OAuthFailure with a sentence naming the field to fix when the realm does not answer
    as a realm; return its discovery document when it does (None when there is nothing to
    check). Any malformed document is a failure sentence too (answers.guard)."""
    url = discovery_url(connection)
    if url is None:
        return None
    oauth.check_destination(connection, url)
    with answers.guard(url):
        return _fetch(connection, url)


def _fetch(connection, url):
    host = failures.host_of(url)
    try:
        response = partner_session().get(url, headers={"Accept": "application/json"})
    except failures.OAuthFailure as failure:
        if failure.kind == "unknown_host":
            raise failures.failure("unknown_host", None, "unknown_server", host=host) from None
        raise
    if response.status_code == 404:
        raise failures.failure("unknown_realm", 404, host=host)
    document = json_body(response) if response.status_code == 200 else None
    if not isinstance(document, dict) or "authorization_endpoint" not in document:
        raise failures.failure("no_discovery", response.status_code, host=host, status=response.status_code)
    return document


def issuer_requirement(connection, document):
    """(the issuer the connection's authorization answers must name, whether they must name it),
    for the mix-up defence (RFC 9207, connectors/state.py).

    The issuer comes from the connection's own URLs, never from the server's document (a server
    could claim another's name); the document only says whether its answers carry `iss`
    (`authorization_response_iss_parameter_supported`). Without a document nothing is required,
    and `iss` is still checked whenever an answer carries it."""
    issuer = connection.provider_info.issuer(connection)
    advertised = (
        bool(issuer)
        and isinstance(document, dict)
        and document.get("issuer") == issuer
        and document.get("authorization_response_iss_parameter_supported") is True
    )
    return issuer, advertised
