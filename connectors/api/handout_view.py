"""POST /api/v1/connections/{id}/token as a plain Django view, the token API's hot path.

django-ninja declares the operation (endpoints.obtain_token: its body, answers and problems in the
OpenAPI document, which schemathesis checks against this view), but its per-request machinery
(building a request model, validating the answer again) cost more than the handout's own query
and write (docs/api.md, Speed). This view runs the same steps with the same parts: the key check
(auth.ApiKeyAuth), the rate limit (ratelimit.PerKeyThrottle), the body parser and TokenIn, then
service.hand_out_token; every refusal is the same problem the routes answer.
"""

import pydantic
from django.utils.translation import gettext as _

from connectors.api import errors, problems, service
from connectors.api.auth import ApiKeyAuth
from connectors.api.endpoints import JsonOrEmptyParser
from connectors.api.problems import Problem
from connectors.api.ratelimit import PerKeyThrottle
from connectors.api.schemas import TokenIn

_auth = ApiKeyAuth(with_token=True)
_throttle = PerKeyThrottle()
_parser = JsonOrEmptyParser()


def obtain_token(request, connection_id):
    if request.method != "POST":
        return problems.response(Problem("method-not-allowed", _not_allowed(request), headers={"Allow": "POST"}))
    try:
        request.auth = _auth(request)
        if not _throttle.allow_request(request):
            return errors.rate_limited(_throttle.wait())
        try:
            data = _parser.parse_body(request)
        except ValueError:
            return errors.not_json()
        body = TokenIn.model_validate(data or {})
        return service.hand_out_token(
            request.auth, connection_id, min_valid_seconds=body.min_valid_seconds, force_refresh=body.force_refresh
        )
    except Problem as problem:
        return problems.response(problem)
    except pydantic.ValidationError as invalid:
        return errors.invalid_fields(invalid.errors())
    except Exception as exc:  # noqa: BLE001 - every failure is a problem answer, never a bare 500
        return errors.unexpected(request, exc)


def _not_allowed(request):
    return _("This path does not take %(method)s; it takes %(allowed)s.") % {
        "method": request.method,
        "allowed": "POST",
    }
