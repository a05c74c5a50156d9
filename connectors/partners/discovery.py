"""Authorization server metadata: where a server's endpoints are and what it promises, read from
its own document, before anything is sent to it.

Two documents say the same thing in the same vocabulary: OpenID Connect Discovery 1.0
(`{issuer}/.well-known/openid-configuration`) and RFC 8414 (`{origin}/.well-known/
oauth-authorization-server{issuer path}`).

- The check Generate makes before sending the operator to the provider: does the realm exist?
  Keycloak publishes each realm's document at `/auth/realms/{tenant}/.well-known/
  openid-configuration`. Asking it first turns a wrong tenant ("Realm does not exist", 404) or a
  wrong server (a host that cannot be found) into a sentence in the app, instead of a browser
  error page at the provider's.
- The generic provider's endpoints, read from the document of the issuer the operator typed (or
  from the document's own address), asked with the partner session only after its URL passed
  the outbound policy.
"""

from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy

from connectors.core import failures, sentences, text
from connectors.partners import answers, oauth
from connectors.partners.http import json_body, partner_session

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
    for the mix-up defence (RFC 9207, connectors/engine/state.py).

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


sentences.register(
    {
        "no_metadata": gettext_lazy(
            "%(host)s published no authorization server metadata (HTTP %(status)s at its discovery address): "
            "check the Issuer URL, or fill in the endpoints yourself."
        ),
        "issuer_mismatch": gettext_lazy(
            "The discovery document at %(host)s names another issuer (%(named)s) than the one it was fetched for "
            "(%(expected)s): its endpoints belong to that issuer. Enter the Issuer URL the partner documents."
        ),
    }
)

OPENID_CONFIGURATION = "/.well-known/openid-configuration"
OAUTH_AUTHORIZATION_SERVER = "/.well-known/oauth-authorization-server"
# Metadata names (RFC 8414 §2, OpenID Connect Discovery §3) of the endpoints a connection uses.
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "revocation_endpoint")


def is_metadata_url(value):
    return OPENID_CONFIGURATION in value or OAUTH_AUTHORIZATION_SERVER in value


def issuer_of_metadata_url(url):
    """The issuer a metadata address belongs to (OpenID Connect Discovery §4: the prefix of
    /.well-known/openid-configuration; RFC 8414 §3.1: the origin and the path after
    /.well-known/oauth-authorization-server)."""
    if OPENID_CONFIGURATION in url:
        return url.split(OPENID_CONFIGURATION, 1)[0]
    origin, _separator, path = url.partition(OAUTH_AUTHORIZATION_SERVER)
    return origin + path


def metadata_urls(issuer_or_document):
    """The addresses to try, in order: the document itself when one was typed, else OpenID
    Connect Discovery's and then RFC 8414's for the issuer (each drops a terminating "/" of the
    issuer before inserting its well-known part)."""
    if is_metadata_url(issuer_or_document):
        return [issuer_or_document]
    issuer = issuer_or_document.rstrip("/")
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    return [issuer + OPENID_CONFIGURATION, origin + OAUTH_AUTHORIZATION_SERVER + parts.path.rstrip("/")]


def names_issuer(document, fetched_for):
    """OpenID Connect Discovery §4.3 and RFC 8414 §3.3: the document's `issuer` must be the
    issuer whose address it was fetched from. An issuer with and without a terminating "/" has
    the same metadata address, so those two are the same here; the document's value is the one
    stored (and compared exactly afterwards, RFC 9207 §2.4)."""
    named = document.get("issuer")
    return isinstance(named, str) and (named == fetched_for or named.rstrip("/") == fetched_for.rstrip("/"))


def fetch_metadata(issuer_or_document):
    """The server's metadata document (a dict naming at least its token endpoint and the issuer
    it was fetched for); raises OAuthFailure with a sentence naming the issuer field when there
    is none, or when it belongs to another issuer."""
    expected = issuer_of_metadata_url(issuer_or_document) if is_metadata_url(issuer_or_document) else issuer_or_document
    status = None
    for url in metadata_urls(issuer_or_document):
        with answers.guard(url):  # a malformed document is a failure sentence too
            response = partner_session().get(url, headers={"Accept": "application/json"})
            status = response.status_code
            document = json_body(response) if status == 200 else None
        if isinstance(document, dict) and isinstance(document.get("token_endpoint"), str):
            if not names_issuer(document, expected):
                raise failures.failure(
                    "issuer_mismatch",
                    None,
                    host=failures.host_of(url),
                    named=text.partner_words(document.get("issuer"), 200) or "—",
                    expected=expected,
                )
            return document
    raise failures.failure(
        "no_discovery", status, "no_metadata", host=failures.host_of(issuer_or_document), status=status or 0
    )


def endpoints(document):
    """{metadata name: URL} of the endpoints the document names (strings only)."""
    return {name: document[name] for name in ENDPOINTS if isinstance(document.get(name), str)}
