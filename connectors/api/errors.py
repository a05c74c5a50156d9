"""The problems the API's own checks answer with, shared by the django-ninja routes
(endpoints.py) and the token handout's plain view (handout_view.py)."""

import logging

from django.utils.translation import gettext as _

from connectors.api import problems
from connectors.api.problems import Problem

logger = logging.getLogger("connectors.api")


def invalid_fields(errors):
    """A 400 problem from pydantic's errors, naming each field as the client sent it."""
    listed = [{"field": _field_of(error), "message": error.get("msg", "")} for error in errors]
    fields = ", ".join(sorted({error["field"] for error in listed}))
    detail = _("Fix these fields of the request: %(fields)s.") % {"fields": fields}
    return problems.response(Problem("invalid-request", detail, errors=listed))


def _field_of(error):
    # pydantic and ninja locate a field as ("body", "body", name), ("query", name) or (name,).
    parts = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
    return ".".join(parts) or "body"


def rate_limited(wait):
    return problems.response(
        Problem(
            "rate-limited",
            _("This API key has made too many requests: wait, then try again."),
            headers={"Retry-After": problems.retry_after(wait or 1)},
        )
    )


def not_json():
    return problems.response(
        Problem("invalid-request", _("Send the request body as a JSON object (application/json), or no body at all."))
    )


def unexpected(request, exc):
    # The type only: an exception's text may quote data that must not reach a log.
    logger.error("API request %s %s raised %s", request.method, request.path, type(exc).__name__)
    return problems.response(Problem("server-error", _("The request could not be handled: see the server log.")))
