"""Who is asking: the API key sent as `Authorization: Bearer <key>` (connectors/store/apikeys.py)."""

from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from connectors.api.problems import Problem
from connectors.store import apikeys

REFUSALS = {
    "missing": lambda: _("Send an API key as “Authorization: Bearer <key>”."),
    "invalid": lambda: _("The API key is not valid: check it, or ask for a new one."),
    "revoked": lambda: _("The API key has been revoked: ask for a new one."),
    "expired": lambda: _("The API key has expired: ask for a new one."),
}


class ApiKeyAuth(HttpBearer):
    """Bearer authentication by API key; refuses with a 401 problem saying why."""

    def __call__(self, request):
        # Not HttpBearer.__call__: in DEBUG it logs a malformed header whole, key included.
        scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("missing")
        return self.authenticate(request, value.strip())

    def authenticate(self, request, token):
        result = apikeys.check(token)
        if result.api_key is None:
            raise unauthorized(result.problem)
        return result.api_key


def unauthorized(reason):
    return Problem("invalid-key", REFUSALS[reason](), headers={"WWW-Authenticate": 'Bearer realm="api"'})
