"""All OAuth 2.0 traffic, through requests-oauthlib: the authorization URL with PKCE, every token
request (the grant strategies of connectors/grants say which fields their grant sends), refresh,
revocation and the test probe. The client authentication is applied here, in one place.

Each function returns the token dict of the provider's answer or raises OAuthFailure. They are
marked sensitive so that a server-error report never shows their local variables (secrets).
"""

import re
from urllib.parse import quote_plus

from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables
from oauthlib.oauth2 import WebApplicationClient
from requests.auth import HTTPBasicAuth

from connectors.core import failures
from connectors.core.app_settings import app_settings
from connectors.core.sentences import Label
from connectors.core.validators import validate_outbound_url
from connectors.partners import answers
from connectors.partners.http import json_body, partner_session


def check_destination(connection, url):
    """Re-check the outbound policy at call time: the settings may have changed since the save."""
    try:
        validate_outbound_url(url, connection.provider_info.allowed_hosts, app_settings.EXTRA_ALLOWED_HOSTS)
    except ValidationError:
        raise failures.blocked(url) from None


@sensitive_variables()
def _token_request(grant, url, send):
    """Run one token request (`send()`), turning OAuth error answers into OAuthFailure and any
    unusable answer into one too (answers.guard). `grant` (a strategy of connectors/grants)
    words the sentences."""
    with answers.guard(url):
        return _send_token_request(grant, send)


@sensitive_variables()
def _send_token_request(grant, send):
    try:
        token = send()
    except Warning as changed:
        # oauthlib warns when the granted scope differs from the requested one; the token is
        # valid and the granted scope is recorded with it.
        token = changed.token
    except failures.OAuthFailure:
        raise
    except Exception as error:
        if failures.is_oauth_error(error):
            raise failures.from_oauth_error(error, grant) from None
        raise
    return dict(token)


@sensitive_variables()
def client_secret_basic(client_id, client_secret):
    """HTTP Basic client authentication as RFC 6749 §2.3.1 defines it: the client ID and secret
    are each form-encoded (application/x-www-form-urlencoded) before they are joined with ":"
    and Base64-encoded. requests' HTTPBasicAuth alone sends them raw, and a server that decodes
    per the RFC then reads "+" as a space, "%2B" as "+" and the first ":" of an ID as the end."""
    return HTTPBasicAuth(quote_plus(client_id or ""), quote_plus(client_secret or ""))


# Client authentication methods, in the vocabulary of RFC 8414 (token_endpoint_auth_method).
CLIENT_SECRET_BASIC = "client_secret_basic"
CLIENT_SECRET_POST = "client_secret_post"
NONE = "none"
CLIENT_AUTHENTICATION_METHODS = (CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, NONE)


@sensitive_variables()
def client_authentication(connection):
    """How the client authenticates at the token (and revocation) endpoint, as (HTTP auth, body
    fields): the one place every token request gets it from. The method is the provider's (or,
    where the provider lets the operator choose, the connection's): `client_secret_basic` sends
    the form-encoded ID and secret as HTTP Basic; `client_secret_post` sends both in the body (a
    public client leaves the secret blank and sends its ID alone); `none` sends the ID only."""
    method = connection.provider_info.client_authentication_of(connection)
    if method == CLIENT_SECRET_BASIC:
        return client_secret_basic(connection.client_id, connection.client_secret), {}
    body = {"client_id": connection.client_id}
    if method == CLIENT_SECRET_POST and connection.client_secret:
        body["client_secret"] = connection.client_secret
    return None, body


@sensitive_variables()
def request_token(connection, grant, client, redirect_uri=None, **fields):
    """POST one token request of `grant` to the connection's token URL: `client` is oauthlib's
    client of that grant, `fields` its own body fields (code, username, …). The client
    authentication, the scope and the provider's extra parameters are added here."""
    check_destination(connection, connection.token_url)
    session = partner_session(
        client=client,
        redirect_uri=redirect_uri,
        scope=connection.scope or None,
        sources=connection.provider_info.url_source_fields,
    )
    auth, credentials = client_authentication(connection)
    extra = connection.provider_info.extra_token_parameters(connection)
    if auth is None:
        # requests-oauthlib adds client_id itself when told to, and the secret when given.
        fields.update(include_client_id=True, client_secret=credentials.get("client_secret"))
    return _token_request(
        grant,
        connection.token_url,
        lambda: session.fetch_token(
            connection.token_url,
            auth=auth,
            **fields,
            **extra,
        ),
    )


@sensitive_variables()
def refresh(connection, grant):
    """Renew with the stored refresh token (RFC 6749 §6), with the same client authentication."""
    check_destination(connection, connection.token_url)
    session = partner_session(
        client=WebApplicationClient(connection.client_id), sources=connection.provider_info.url_source_fields
    )
    auth, credentials = client_authentication(connection)
    return _token_request(
        grant,
        connection.token_url,
        lambda: session.refresh_token(
            connection.token_url, refresh_token=connection.refresh_token, auth=auth, **credentials
        ),
    )


def wants_offline_access(scope):
    return "offline_access" in (scope or "").split()


def new_pkce_verifier():
    return WebApplicationClient(None).create_code_verifier(64)


def authorization_url(connection, redirect_uri, state, verifier):
    """The URL that sends the operator to the provider's login page (PKCE S256, our state)."""
    check_destination(connection, connection.authorization_url)
    client = WebApplicationClient(connection.client_id)
    challenge = client.create_code_challenge(verifier, "S256")
    session = partner_session(
        client=client,
        redirect_uri=redirect_uri,
        scope=connection.scope or None,
        sources=connection.provider_info.url_source_fields,
    )
    extra = {}
    if wants_offline_access(connection.scope):
        # OpenID Connect Core §11: without prompt=consent a provider ignores offline_access, and
        # the refresh token then dies with the operator's login session at the provider.
        extra["prompt"] = "consent"
    # The provider's own (a template's access_type=offline, audience, …).
    extra.update(connection.provider_info.extra_authorization_parameters(connection))
    url, _state = session.authorization_url(
        connection.authorization_url, state=state, code_challenge=challenge, code_challenge_method="S256", **extra
    )
    return url


@sensitive_variables()
def revoke(connection, refresh_token):
    """Revoke a refresh token at the provider's RFC 7009 endpoint (the one POST of the flow that
    is not a token request; it goes through the same bounded session). Returns the URL it was
    sent to; raises OAuthFailure when the provider does not confirm."""
    url = connection.provider_info.revocation_url(connection)
    check_destination(connection, url)
    with answers.guard(url):
        return _revoke(connection, refresh_token, url)


@sensitive_variables()
def _revoke(connection, refresh_token, url):
    session = partner_session(client=WebApplicationClient(connection.client_id))
    # RFC 7009 §2.1: the client authenticates as at the token endpoint.
    auth, credentials = client_authentication(connection)
    body = {"token": refresh_token, "token_type_hint": "refresh_token", **credentials}
    response = session.post(
        url, data=body, auth=auth, headers={"Accept": "application/json"}, timeout=app_settings.REVOCATION_TIMEOUT
    )
    if response.status_code == 200:  # RFC 7009 §2.2: also for a token the provider no longer knows
        return url
    failure = failures.from_http_status(response, url, "revocation")
    if failure:
        raise failure
    answer = json_body(response)
    # The code comes from the partner: letters and "_" only, short, before it goes in a sentence.
    code = re.sub(r"[^a-z_]", "", str(answer.get("error", "")).lower())[:60] if isinstance(answer, dict) else ""
    if code:
        raise failures.failure(
            code, response.status_code, "revocation_unconfirmed_code", status=response.status_code, code=code
        )
    raise failures.failure("http_error", response.status_code, "revocation_unconfirmed", status=response.status_code)


@sensitive_variables()
def probe(connection, access_token):
    """GET the provider's cheap read-only resource with the token; returns the HTTP status."""
    url = connection.provider_info.probe_url(connection)
    check_destination(connection, url.split("?", 1)[0])  # the probe's own query is ours, not typed
    with answers.guard(url):
        return _probe(connection, access_token, url)


@sensitive_variables()
def _probe(connection, access_token, url):
    session = partner_session(
        client=WebApplicationClient(connection.client_id), token={"access_token": access_token, "token_type": "Bearer"}
    )
    response = session.get(url, headers={"Accept": "application/json"})
    failure = failures.from_http_status(response, url, "probe")
    if failure:
        raise failure
    if response.status_code == 401:
        raise failures.failure(
            "token_refused",
            401,
            "probe_token_refused",
            host=failures.host_of(url),
            hint=Label(connection.provider_info.probe_unauthorized_hint),
        )
    if response.status_code == 403:
        raise failures.failure("forbidden", 403, hint=Label(connection.provider_info.probe_forbidden_hint))
    if response.status_code >= 400:
        raise failures.failure("http_error", response.status_code, "probe_http_error", status=response.status_code)
    if json_body(response) is None:
        raise failures.not_json(response, url)
    return response.status_code
