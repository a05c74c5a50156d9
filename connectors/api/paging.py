"""Cursor paging of lists: a page ends at an id, and the next one starts after it. The cursor is
that id as text: every value the OpenAPI document allows (CURSOR_PATTERN) is a cursor, and
consumers follow `next` rather than build one."""

from urllib.parse import urlencode

from django.utils.translation import gettext as _

from connectors.api.problems import Problem
from connectors.core.app_settings import app_settings

# Up to 18 digits: every such number is a 64-bit id.
CURSOR_PATTERN = r"^[0-9]{1,18}$"


def after(cursor):
    """The id a page starts after (0 for the first page); anything else is a 400 problem."""
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise Problem(
            "invalid-request",
            _("The cursor is not valid: follow the “next” link of the previous page."),
            errors=[{"field": "cursor", "message": _("not a cursor of this API")}],
        )
    return int(cursor)


def next_url(request, last_id):
    """The absolute URL of the page after `last_id`, with the request's other parameters."""
    parameters = {name: value for name, value in request.GET.items() if name != "cursor"}
    parameters["cursor"] = str(last_id)
    return f"{app_settings.PUBLIC_BASE_URL}{request.path}?{urlencode(parameters)}"
