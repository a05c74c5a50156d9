"""What went wrong talking to a partner, as one sentence an operator can act on.

Every outbound failure becomes an OAuthFailure carrying a `kind`, the HTTP status if there was one,
and the sentence. Sentences are built from field labels, host names and OAuth error codes only:
never from request bodies, headers or anything else that could carry a secret.
"""

import re
import socket
import ssl

import requests
import urllib3
from django.utils.translation import gettext
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from . import text, validators
from .providers.base import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD

GRANT_NAMES = {
    AUTHORIZATION_CODE: "authorization code",
    PASSWORD: "password",
    CLIENT_CREDENTIALS: "client credentials",
    "refresh_token": "refresh token",
}


class OAuthFailure(Exception):
    """A failure with the sentence to show. `kind` is a stable code for tests and events."""

    def __init__(self, kind, message, status=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


def host_of(url):
    """The host to name in a sentence (the URL itself when it has no readable host)."""
    return validators.host_of(url) or url


def _causes(error):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = (
            error.__cause__
            or error.__context__
            or (error.args[0] if error.args and isinstance(error.args[0], BaseException) else None)
        )


def from_transport_error(error, url, timeout):
    """Classify a requests exception (no answer at all) into a failure sentence."""
    host = host_of(url)
    if isinstance(error, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)):
        return OAuthFailure(
            "timeout",
            f"{host} did not answer within {timeout} second{'' if timeout == 1 else 's'}: try again later, and check "
            "the URL if it keeps happening.",
        )
    if isinstance(error, requests.exceptions.SSLError) or any(isinstance(c, ssl.SSLError) for c in _causes(error)):
        return OAuthFailure(
            "tls",
            f"The TLS certificate of {host} could not be verified: check the URL; if it is "
            "right, the partner's certificate is not valid.",
        )
    for cause in _causes(error):
        if (
            isinstance(cause, socket.gaierror)
            or "NameResolutionError" in type(cause).__name__
            or "Name or service not known" in str(cause)
        ):
            return OAuthFailure(
                "unknown_host",
                f"The host {host} cannot be found: check the URL and the fields it "
                "is derived from (subdomain, server or endpoint).",
            )
        if isinstance(cause, ConnectionRefusedError):
            return OAuthFailure(
                "refused",
                f"Nothing answers at {host} (connection refused): check the URL and that the server is running.",
            )
    return OAuthFailure("network", f"Could not reach {host} ({type(error).__name__}): check the URL and the network.")


def from_oauth_error(error, grant, status=None):
    """Classify an OAuth 2.0 error response (RFC 6749 §5.2) from the token endpoint."""
    # The code comes from the partner: keep it short and plain before putting it in a sentence.
    code = re.sub(r"[^a-z_]", "", str(getattr(error, "error", "") or "").lower())[:60] or "error"
    status = status or getattr(error, "status_code", None)
    if code == "invalid_client":
        message = (
            "The provider refused the client ID or client secret (invalid_client): check both on the OAuth 2.0 tab."
        )
    elif code == "invalid_grant" and grant == PASSWORD:
        message = "The provider refused the username or password (invalid_grant): check both on the OAuth 2.0 tab."
    elif code == "invalid_grant" and grant == "refresh_token":
        message = "The authorization has expired or was revoked at the provider (invalid_grant): click Regenerate to log in again."
    elif code == "invalid_grant":
        message = "The provider refused the authorization code (invalid_grant): click Generate to try again."
    elif code == "invalid_scope":
        message = "The provider refused the requested scope (invalid_scope): check the Scope field against the scopes granted to your account."
    elif code == "unauthorized_client":
        message = (
            f"This client may not use the {GRANT_NAMES.get(grant, grant)} grant (unauthorized_client): "
            "enable that grant for the client at the provider, or check the Client ID."
        )
    elif code == "unsupported_grant_type":
        message = (
            f"The provider does not support the {GRANT_NAMES.get(grant, grant)} grant at this URL "
            "(unsupported_grant_type): check the Access Token URL."
        )
    elif code in ("server_error", "temporarily_unavailable"):
        message = f"The provider reported an internal error ({code}): try again later; nothing needs changing here."
    else:
        message = f"The provider refused the token request ({code}): check the client ID, secret and Access Token URL."
    return OAuthFailure(code, message, status)


def from_http_status(response, url, step):
    """Classify an answer that is not a usable OAuth or API answer, from its status and type."""
    status = response.status_code
    host = host_of(url)
    if 300 <= status < 400:
        return OAuthFailure(
            "redirect",
            f"{host} answered with a redirect (HTTP {status}), which is not followed for "
            "security: enter the exact https address in the URL field.",
            status,
        )
    if status == 429:
        retry = response.headers.get("Retry-After", "").strip()
        wait = (
            f"wait {retry} seconds" if retry.isascii() and retry.isdigit() and len(retry) < 6 else "wait a few minutes"
        )
        failure = OAuthFailure(
            "rate_limited",
            f"The provider is limiting the number of requests (HTTP 429): {wait} and test "
            "again; nothing needs changing here.",
            status,
        )
        # The renewal backoff honours it (connectors/backoff.py); capped at a day.
        failure.retry_after = min(int(retry), 86400) if retry.isascii() and retry.isdigit() else None
        return failure
    if status >= 500:
        return OAuthFailure(
            "server_error",
            f"The provider had an internal error (HTTP {status}): try again later; nothing needs changing here.",
            status,
        )
    if status == 404:
        return OAuthFailure(
            "not_found",
            f"{host} has no such address (HTTP 404): check the URL"
            + (" (tenant, subdomain or endpoint)." if step == "token" else "."),
            status,
        )
    return None


def not_json(response, url):
    content_type = text.partner_words(response.headers.get("Content-Type", "").split(";")[0], 60) or "unknown type"
    return OAuthFailure(
        "not_json",
        f"The answer from {host_of(url)} was not JSON (HTTP {response.status_code}, "
        f"{content_type}): the URL seems to point at a web page, not the API; check it.",
        response.status_code,
    )


def too_large(url, limit):
    return OAuthFailure(
        "too_large",
        f"The answer from {host_of(url)} was larger than {limit // 1024} KiB and was not read: check the URL.",
    )


def malformed(url):
    return OAuthFailure(
        "malformed_answer",
        gettext(
            "The answer from %(host)s was not a usable answer (wrong types, sizes or nesting): check the URL; "
            "if it is right, the provider's answer is broken."
        )
        % {"host": host_of(url)},
    )


def no_token(status=None):
    return OAuthFailure(
        "no_token", "The provider answered without an access token: check the Access Token URL.", status
    )


def blocked(url):
    return OAuthFailure(
        "blocked_host",
        f"The URL's host {host_of(url)} is not allowed for this provider: correct the "
        "URL (extra hosts are allowed only through EXTRA_ALLOWED_HOSTS).",
    )


def is_oauth_error(error):
    return isinstance(error, oauth_errors.OAuth2Error)
