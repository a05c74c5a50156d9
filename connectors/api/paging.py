"""Cursor paging of lists: a page ends at an id, and the next one starts after it. The cursor is
opaque to consumers (they follow `next`), so its form can change without breaking them."""

import base64
import binascii
import json
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from connectors.api.problems import Problem
from connectors.core.app_settings import app_settings


def encode(last_id):
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def after(cursor):
    """The id a page starts after (0 for the first page); a cursor this API did not make is a
    400 problem naming it."""
    if cursor is None:
        return 0
    try:
        stored = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value = stored["after"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        value = None
    if type(value) is not int or not 0 <= value < 2**63:
        raise Problem(
            "invalid-request",
            _("The cursor is not valid: follow the “next” link of the previous page."),
            errors=[{"field": "cursor", "message": _("not a cursor of this API")}],
        )
    return value


def next_url(request, last_id):
    """The absolute URL of the page after `last_id`, with the request's other parameters."""
    parameters = {name: value for name, value in request.GET.items() if name != "cursor"}
    parameters["cursor"] = encode(last_id)
    return f"{app_settings.PUBLIC_BASE_URL}{request.path}?{urlencode(parameters)}"
