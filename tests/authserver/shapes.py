"""Authorization servers shaped like particular providers, each under `/hosts/<host>/`.

The generic provider must work with any standards-conforming server whatever the shape of its
issuer, and the provider templates (connectors' catalog) must work with the providers they
describe. A test cannot reach those providers, so this server plays each of them on loopback:
a URL `https://<host>/<path>` of a provider becomes `http://127.0.0.1:<port>/hosts/<host>/<path>`
here (tests/catalog_support.py moves a template so), and the shape says how that provider
behaves where the standards leave it a choice. The OAuth work itself is django-oauth-toolkit's.

Endpoints live under the issuer at `/_/authorize`, `/_/token`, `/_/userinfo` and `/_/revoke`:
only their addresses differ from the real providers', and the client reads them from the
metadata document.
"""

from dataclasses import dataclass, field

OPENID_CONFIGURATION = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Shape:
    # Where the metadata is published: OpenID Connect Discovery's `{issuer}/.well-known/
    # openid-configuration`, RFC 8414's path-inserted `{origin}/.well-known/
    # oauth-authorization-server{path}`, or both.
    openid_discovery: bool = True
    rfc8414_discovery: bool = True
    # The issuer identifier ends in "/" (as Auth0 publishes it).
    trailing_slash: bool = False
    # The document names the host's root as the issuer whatever path it was asked for (a
    # server answering for another tenant than the one in the address).
    issuer_ignores_path: bool = False
    # RFC 9207: authorization answers carry `iss`, and the metadata says so.
    iss_in_answers: bool = False
    # RFC 7009 revocation: "grant" ends the client's whole grant for the user (every token of
    # it, the newest included: Keycloak, Google, Auth0 and many certified servers); "single"
    # revokes the one token; "" publishes no revocation endpoint.
    revocation: str = "grant"
    # Fields the token answer carries beyond RFC 6749's (Salesforce: the API's `instance_url`).
    instance_url: bool = False
    # A note for readers of the tests: which provider's documentation the shape follows.
    like: str = field(default="", compare=False)


SHAPES = {
    # The three issuer shapes of a conforming server besides the root one (tests/authserver/urls.py).
    "rfc8414.example": Shape(openid_discovery=False, iss_in_answers=True, like="RFC 8414 metadata only"),
    "slash.example": Shape(trailing_slash=True, iss_in_answers=True, like="an issuer ending in /"),
    "mismatch.example": Shape(issuer_ignores_path=True, like="a document naming another issuer"),
    "single.example": Shape(revocation="single", iss_in_answers=True, like="revokes single tokens"),
    # The catalog's providers, at the hosts of their templates' example values.
    "login.microsoftonline.com": Shape(revocation="", like="Microsoft Entra ID"),
    "accounts.google.com": Shape(like="Google"),
    "dev-123456.okta.com": Shape(revocation="single", like="Okta"),
    "acme.eu.auth0.com": Shape(trailing_slash=True, like="Auth0"),
    "acme.my.salesforce.com": Shape(revocation="single", instance_url=True, like="Salesforce"),
    "sso.example.com": Shape(iss_in_answers=True, like="Keycloak"),
    "acme-xyz123.zitadel.cloud": Shape(like="ZITADEL"),
}


def issuer(base, host, shape, issuer_path):
    """The issuer identifier of `issuer_path` at `host` (`base`: this server's root URL)."""
    path = "" if shape.issuer_ignores_path else issuer_path.rstrip("/")
    identifier = f"{base}/hosts/{host}{path}"
    return identifier + "/" if shape.trailing_slash else identifier


def metadata(issuer_identifier, shape, scopes):
    endpoint = issuer_identifier.rstrip("/") + "/_"
    document = {
        "issuer": issuer_identifier,
        "authorization_endpoint": f"{endpoint}/authorize",
        "token_endpoint": f"{endpoint}/token",
        "userinfo_endpoint": f"{endpoint}/userinfo",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": list(scopes),
        "authorization_response_iss_parameter_supported": shape.iss_in_answers,
    }
    if shape.revocation:
        document["revocation_endpoint"] = f"{endpoint}/revoke"
    return document
