"""What went wrong talking to a partner, as one sentence an operator can act on.

Every outbound failure becomes an OAuthFailure carrying a `kind`, the HTTP status if there was one,
and the sentence. Sentences are built from field labels, host names and OAuth error codes only:
never from request bodies, headers or anything else that could carry a secret.
"""

import re
import socket
import ssl
from urllib.parse import urlsplit

import requests
import urllib3
from django.utils.translation import gettext_lazy, ngettext_lazy
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from connectors.core import sentences, text, validators

# The sentences of this module by code (connectors/core/sentences.py): stored as code and parameters,
# rendered in the reader's language.
SENTENCES = sentences.register(
    {
        "timeout": ngettext_lazy(
            "%(host)s did not answer within %(seconds)d second: try again later, and check the URL if it keeps "
            "happening.",
            "%(host)s did not answer within %(seconds)d seconds: try again later, and check the URL if it keeps "
            "happening.",
            "seconds",
        ),
        "tls": gettext_lazy(
            "The TLS certificate of %(host)s could not be verified: check the URL; if it is right, the partner's "
            "certificate is not valid."
        ),
        "unknown_host": gettext_lazy(
            "The host %(host)s cannot be found: check the URL and the fields it is derived from (%(fields)s)."
        ),
        "unknown_host_url": gettext_lazy("The host %(host)s cannot be found: check the URL."),
        "refused": gettext_lazy(
            "Nothing answers at %(host)s (connection refused): check the URL and that the server is running."
        ),
        "network": gettext_lazy("Could not reach %(host)s (%(error)s): check the URL and the network."),
        "invalid_client": gettext_lazy(
            "The provider refused the client ID or client secret (invalid_client): check both on the OAuth 2.0 tab."
        ),
        "invalid_grant_password": gettext_lazy(
            "The provider refused the username or password (invalid_grant): check both on the OAuth 2.0 tab."
        ),
        "invalid_grant_refresh": gettext_lazy(
            "The authorization has expired or was revoked at the provider (invalid_grant): click Regenerate to log "
            "in again."
        ),
        "invalid_grant": gettext_lazy(
            "The provider refused the authorization code (invalid_grant): click Generate to try again."
        ),
        "invalid_grant_client": gettext_lazy(
            "The provider refused the client's grant (invalid_grant): check the Client ID and Client Secret."
        ),
        "invalid_scope": gettext_lazy(
            "The provider refused the requested scope (invalid_scope): check the Scope field against the scopes "
            "granted to your account."
        ),
        "unauthorized_client": gettext_lazy(
            "This client may not use the %(grant)s grant (unauthorized_client): enable that grant for the client at "
            "the provider, or check the Client ID."
        ),
        "unsupported_grant_type": gettext_lazy(
            "The provider does not support the %(grant)s grant at this URL (unsupported_grant_type): check the "
            "Access Token URL."
        ),
        "provider_internal_error": gettext_lazy(
            "The provider reported an internal error (%(code)s): try again later; nothing needs changing here."
        ),
        "token_refused": gettext_lazy(
            "The provider refused the token request (%(code)s): check the client ID, secret and Access Token URL."
        ),
        "redirect": gettext_lazy(
            "%(host)s answered with a redirect (HTTP %(status)s), which is not followed for security: enter the "
            "exact https address in the URL field."
        ),
        "rate_limited_wait": ngettext_lazy(
            "The provider is limiting the number of requests (HTTP 429): wait %(seconds)d second and test again; "
            "nothing needs changing here.",
            "The provider is limiting the number of requests (HTTP 429): wait %(seconds)d seconds and test again; "
            "nothing needs changing here.",
            "seconds",
        ),
        "rate_limited": gettext_lazy(
            "The provider is limiting the number of requests (HTTP 429): wait a few minutes and test again; nothing "
            "needs changing here."
        ),
        "server_error": gettext_lazy(
            "The provider had an internal error (HTTP %(status)s): try again later; nothing needs changing here."
        ),
        "not_found_token": gettext_lazy("%(host)s has no such address (HTTP 404): check the URL (and %(fields)s)."),
        "not_found": gettext_lazy("%(host)s has no such address (HTTP 404): check the URL."),
        "not_json": gettext_lazy(
            "The answer from %(host)s was not JSON (HTTP %(status)s, %(content_type)s): the URL seems to point at a "
            "web page, not the API; check it."
        ),
        "unknown_type": gettext_lazy("unknown type"),
        "too_large": gettext_lazy(
            "The answer from %(host)s was larger than %(kib)s KiB and was not read: check the URL."
        ),
        "malformed_answer": gettext_lazy(
            "The answer from %(host)s was not a usable answer (wrong types, sizes or nesting): check the URL; if it "
            "is right, the provider's answer is broken."
        ),
        "no_token": gettext_lazy("The provider answered without an access token: check the Access Token URL."),
        "unknown_server": gettext_lazy(
            "The server %(host)s cannot be found: check the Server field on the Connection tab."
        ),
        "unknown_realm": gettext_lazy(
            "%(host)s has no realm at this address (HTTP 404): check the Tenant field on the Connection tab (and "
            "the Server, if your identity host has an environment part)."
        ),
        "no_discovery": gettext_lazy(
            "%(host)s did not answer as an identity server (HTTP %(status)d at its discovery address): check the "
            "Server and Tenant fields, or the Authorization URL."
        ),
        "token_http_error": gettext_lazy(
            "The token endpoint answered HTTP %(status)s without an OAuth error: check the Access Token URL."
        ),
        "revocation_unconfirmed": gettext_lazy("The provider did not confirm the revocation (HTTP %(status)s)."),
        "revocation_unconfirmed_code": gettext_lazy(
            "The provider did not confirm the revocation (HTTP %(status)s, %(code)s)."
        ),
        "probe_token_refused": gettext_lazy("The provider refused the token at %(host)s (HTTP 401): %(hint)s"),
        "forbidden": gettext_lazy(
            "The credentials work, but the provider refused the test request (HTTP 403): %(hint)s"
        ),
        "probe_http_error": gettext_lazy("The test request answered HTTP %(status)s: check the URL."),
        "blocked_host": gettext_lazy(
            "The URL's host %(host)s is not allowed for this provider: correct the URL (extra hosts are allowed "
            "only through EXTRA_ALLOWED_HOSTS)."
        ),
        "not_own_origin": gettext_lazy(
            "%(origin)s is not this connection's API or test address: its token is sent only there."
        ),
    }
)


class OAuthFailure(Exception):
    """A failure with the sentence to show. `kind` is a stable code for tests and events; `message`
    is a Sentence (code and parameters, rendered in the reader's language when shown)."""

    def __init__(self, kind, message, status=None):
        super().__init__(kind)
        self.kind = kind
        self.message = message
        self.status = status

    def __str__(self):
        return str(self.message)

    @property
    def code(self):
        """The sentence's code (connectors/core/sentences.py); "" for a plain-text message."""
        return getattr(self.message, "code", "")

    @property
    def params(self):
        """The sentence's parameters: host names, statuses, OAuth error codes, never a secret."""
        return dict(getattr(self.message, "params", {}))


def failure(kind, http_status=None, sentence_code=None, /, **params):
    """An OAuthFailure whose sentence is the registered `sentence_code` (the kind unless told)."""
    return OAuthFailure(kind, sentences.Sentence(sentence_code or kind, **params), http_status)


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


def from_transport_error(error, url, timeout, sources=""):
    """Classify a requests exception (no answer at all) into a failure sentence. `sources` names
    the fields the URL is derived from (the provider's `url_source_fields`), for a host that
    cannot be found."""
    host = host_of(url)
    if isinstance(error, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)):
        return failure("timeout", host=host, seconds=timeout)
    if isinstance(error, requests.exceptions.SSLError) or any(isinstance(c, ssl.SSLError) for c in _causes(error)):
        return failure("tls", host=host)
    for cause in _causes(error):
        if (
            isinstance(cause, socket.gaierror)
            or "NameResolutionError" in type(cause).__name__
            or "Name or service not known" in str(cause)
        ):
            if sources:
                return failure("unknown_host", host=host, fields=sentences.Label(sources))
            return failure("unknown_host", None, "unknown_host_url", host=host)
        if isinstance(cause, ConnectionRefusedError):
            return failure("refused", host=host)
    return failure("network", host=host, error=type(error).__name__)


def from_oauth_error(error, grant, status=None):
    """Classify an OAuth 2.0 error response (RFC 6749 §5.2) from the token endpoint. `grant` is
    the strategy that asked (connectors/grants): it says what `invalid_grant` means for it."""
    # The code comes from the partner: keep it short and plain before putting it in a sentence.
    code = re.sub(r"[^a-z_]", "", str(getattr(error, "error", "") or "").lower())[:60] or "error"
    status = status or getattr(error, "status_code", None)
    if code == "invalid_client":
        return failure(code, status)
    if code == "invalid_grant":
        return failure(code, status, grant.invalid_grant_sentence_code)
    if code == "invalid_scope":
        return failure(code, status)
    if code in ("unauthorized_client", "unsupported_grant_type"):
        return failure(code, status, grant=sentences.Label(grant.words))
    if code in ("server_error", "temporarily_unavailable"):
        return failure(code, status, "provider_internal_error", code=code)
    return failure(code, status, "token_refused", code=code)


def from_http_status(response, url, step, sources=""):
    """Classify an answer that is not a usable OAuth or API answer, from its status and type
    (`sources`: as for from_transport_error)."""
    status = response.status_code
    host = host_of(url)
    if 300 <= status < 400:
        return failure("redirect", status, host=host, status=status)
    if status == 429:
        retry = response.headers.get("Retry-After", "").strip()
        if retry.isascii() and retry.isdigit() and len(retry) < 6:
            rate_limited = failure("rate_limited", status, "rate_limited_wait", seconds=int(retry))
        else:
            rate_limited = failure("rate_limited", status)
        # The renewal backoff honours it (connectors/engine/backoff.py); capped at a day.
        rate_limited.retry_after = min(int(retry), 86400) if retry.isascii() and retry.isdigit() else None
        return rate_limited
    if status >= 500:
        return failure("server_error", status, status=status)
    if status == 404:
        if sources and step == "token":
            return failure("not_found", status, "not_found_token", host=host, fields=sentences.Label(sources))
        return failure("not_found", status, host=host)
    return None


def not_json(response, url):
    content_type = text.partner_words(response.headers.get("Content-Type", "").split(";")[0], 60)
    return failure(
        "not_json",
        response.status_code,
        host=host_of(url),
        status=response.status_code,
        content_type=content_type or sentences.Sentence("unknown_type"),
    )


def too_large(url, limit):
    return failure("too_large", host=host_of(url), kib=limit // 1024)


def malformed(url):
    return failure("malformed_answer", host=host_of(url))


def no_token(status=None):
    return failure("no_token", status)


def blocked(url):
    return failure("blocked_host", host=host_of(url))


def not_own_origin(url):
    """A URL allowed for some connection, but not one of this connection's own origins."""
    try:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        origin = host_of(url)
    return failure("not_own_origin", origin=origin)


def is_oauth_error(error):
    return isinstance(error, oauth_errors.OAuth2Error)
