"""Every answer under /api/ the same way: an error is RFC 9457 problem details whoever produced it
(Django's resolver for an unknown path or a malformed id, django-ninja for a method the path does
not take, Django's handler for an unexpected error), and nothing is kept by a cache."""

import re

from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from connectors.api import problems
from connectors.api.problems import Problem

# A path naming a connection by something that is not an id (`abc`, `-1`): that connection is
# not found, the same answer as for an id the key may not see.
_CONNECTION_PATH = re.compile(r"^/api/v1/connections/[^/]+/(token|test|proxy)(/|$)")


class ProblemAnswers:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and response.get("Content-Type", "") != problems.CONTENT_TYPE
            and not getattr(response, "from_partner", False)  # the proxy passes a partner's answer as it is
        ):
            response = problems.response(problem_for(request, response))
        response["Cache-Control"] = problems.NO_STORE
        return response


def problem_for(request, response):
    """The problem standing for an error answer that is not one yet."""
    status = response.status_code
    if status == 404:
        return not_found(request.path_info)
    if status == 405:
        allowed = response.get("Allow", "")
        return Problem(
            "method-not-allowed",
            _("This path does not take %(method)s; it takes %(allowed)s.")
            % {"method": request.method, "allowed": allowed},
            headers={"Allow": allowed},
        )
    if status < 500:
        return Problem("invalid-request", _("The request is not valid."))
    return Problem("server-error", _("The request could not be handled: see the server log."))


def not_found(path):
    other = path[:-1] if path.endswith("/") else path + "/"
    try:
        resolve(other)
    except Resolver404:
        if _CONNECTION_PATH.match(path):
            return Problem("not-found", _("There is no connection with this id for this API key."))
        return Problem("unknown-path", _("There is no such path in this API: see /api/v1/openapi.json."))
    return Problem(
        "unknown-path",
        _("There is no such path in this API: its paths end without a slash, use %(path)s.") % {"path": other},
    )
