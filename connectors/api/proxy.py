"""The proxy: a consumer calls a partner's API through /api/v1/connections/{id}/proxy/{path}
and never holds the partner's token. The request goes to the connection's API base URL under the
outbound policy of `connection.session()` (the provider's allowed hosts, a total deadline, no
redirects, the size cap), with the connection's valid token attached; the partner's status, the
headers that are safe to pass and the body come back.

A path that would leave the base URL is refused before anything is sent: dot segments, empty
segments (`//`), backslashes, `@`, a scheme, and percent-encoded slashes, backslashes or dots
where the server passes the raw request line (gunicorn's RAW_URI).
"""

import re
from urllib.parse import quote, urlsplit

from django.apps import apps
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from connectors.api import handout, service
from connectors.api.problems import Problem
from connectors.core import failures
from connectors.engine import tokens
from connectors.partners.providers import get_provider
from connectors.store import proxy_usage

# Sent on to the partner: what describes the body and what the consumer accepts; never the
# consumer's Authorization (its API key), cookies or forwarding headers.
REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
)
# Passed back to the consumer. Not the partner's WWW-Authenticate (a consumer would take it for a
# refusal of its API key), Set-Cookie, or hop-by-hop headers.
RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Language",
    "ETag",
    "Last-Modified",
    "Location",
    "Retry-After",
)
_ENCODED_ESCAPE = re.compile(r"%(2f|5c|2e|40)", re.I)


def forward(request, found, connection_id, path):
    """The partner's answer to the consumer's request, as an HttpResponse. `found` is what the
    key check read along with the connection (handout.find)."""
    if not found.may_proxy:
        raise Problem(
            "proxy-not-allowed",
            _("This API key may not call partners through the proxy: ask for a key that may."),
        )
    if request.method not in found.proxy_methods:
        raise Problem(
            "proxy-not-allowed",
            _("This API key may send %(allowed)s through the proxy, not %(method)s.")
            % {"allowed": ", ".join(found.proxy_methods) or "—", "method": request.method},
        )
    if not found.visible:
        raise service.not_found()
    # The provider's own model (its API base URL is one of its fields), in one query.
    model = apps.get_model("connectors", get_provider(found.provider).model_name)
    connection = model.objects.filter(pk=connection_id).first()
    if connection is None:  # deleted a moment ago
        raise service.not_found()
    handout.mark_used(found, timezone.now())
    url = target_url(connection, path, request.META.get("QUERY_STRING", ""), request.META.get("RAW_URI", ""))
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    body = request.body or None
    http = tokens.session(connection)
    try:
        answer = http.request(request.method, url, headers=headers, data=body)
        if answer.status_code == 401:
            # The partner no longer takes the token (revoked, or expired early): renew once, retry once.
            tokens.get_access_token(connection, force=True)
            answer = http.request(request.method, url, headers=headers, data=body)
    except failures.OAuthFailure as failure:
        proxy_usage.count_proxied(connection.pk, failed=True)
        raise service.problem_from_failure(connection, failure) from None
    proxy_usage.count_proxied(connection.pk, failed=answer.status_code >= 500)
    response = HttpResponse(answer.content, status=answer.status_code)
    response.from_partner = True
    for name in RESPONSE_HEADERS:
        if name in answer.headers:
            response[name] = answer.headers[name]
    if "Content-Type" not in answer.headers:
        del response["Content-Type"]
    return response


def target_url(connection, path, query, raw_uri=""):
    """The partner URL for `path` under the connection's API base URL; a path that would leave
    the base is a 400 problem."""
    base = connection.provider_info.api_base_url(connection)
    if not base.endswith("/"):
        base += "/"
    segments = path.split("/")
    if (
        _ENCODED_ESCAPE.search(raw_uri.split("?", 1)[0])
        or any(segment in ("", ".", "..") for segment in segments[:-1])
        or segments[-1] in (".", "..")
        or any(character in path for character in "\\@")
        or ":" in segments[0]
    ):
        raise Problem(
            "invalid-request",
            _(
                "The proxied path must stay under the connection's API base URL: no “..”, “//”, “@”, "
                "backslash, encoded slash or absolute URL."
            ),
            errors=[{"field": "path", "message": _("leaves the API base URL")}],
        )
    url = base + "/".join(quote(segment, safe="!$&'()*+,;=:~-._") for segment in segments)
    if query:
        url += "?" + query
    base_parts, url_parts = urlsplit(base), urlsplit(url)
    # Belt and braces: whatever the path, the request goes to the base URL's own origin and path.
    if (url_parts.scheme, url_parts.netloc) != (base_parts.scheme, base_parts.netloc) or not url_parts.path.startswith(
        base_parts.path
    ):
        raise Problem("invalid-request", _("The proxied path must stay under the connection's API base URL."))
    return url
