"""RFC 9457 problem details: every error of the API is one JSON object with `type`, `title`,
`status` and `detail`, where `detail` is the same one-sentence message the admin shows."""

import json
import math

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from connectors.core.app_settings import app_settings

CONTENT_TYPE = "application/problem+json"
# Django's never_cache value, set directly: add_never_cache_headers() formats dates and parses
# the existing header on every answer.
NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"

# slug -> (HTTP status, title). The type URI of a problem is {PUBLIC_BASE_URL}/api/v1/problems/{slug}
# (README, API, lists them); consumers switch on it, people read title and detail.
TYPES = {
    "invalid-request": (400, _("The request is not valid")),
    "invalid-key": (401, _("No valid API key")),
    "tokens-not-allowed": (403, _("This API key may not obtain tokens")),
    "proxy-not-allowed": (403, _("This API key may not use the proxy this way")),
    "not-found": (404, _("No such connection")),
    "unknown-path": (404, _("No such path")),
    "method-not-allowed": (405, _("Method not allowed")),
    "unsupported-media-type": (415, _("The body is not JSON")),
    "not-authorized": (409, _("The connection is not authorized")),
    "needs-reauthorization": (409, _("The connection needs reauthorization")),
    "rate-limited": (429, _("Too many requests")),
    "partner-failed": (502, _("The partner did not issue a token")),
    "server-error": (500, _("Internal error")),
}


class Problem(Exception):
    """An API error to answer as problem details; `extensions` become extra members."""

    def __init__(self, slug, detail, *, headers=None, **extensions):
        super().__init__(str(detail))
        self.slug = slug
        self.detail = str(detail)
        self.headers = headers or {}
        self.extensions = extensions


def type_uri(slug):
    return f"{app_settings.PUBLIC_BASE_URL}/api/v1/problems/{slug}"


def response(problem):
    status, title = TYPES[problem.slug]
    body = {"type": type_uri(problem.slug), "title": str(title), "status": status, "detail": problem.detail}
    body.update(problem.extensions)
    answer = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)
    for name, value in problem.headers.items():
        answer[name] = value
    answer["Cache-Control"] = NO_STORE
    return answer


def retry_after(seconds):
    """A Retry-After value: whole seconds, at least one (RFC 9110 §10.2.3)."""
    return str(max(1, math.ceil(seconds)))
