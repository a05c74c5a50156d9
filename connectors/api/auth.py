"""Who is asking: the API key sent as `Authorization: Bearer <key>` (connectors/store/apikeys.py)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from connectors.api import handout
from connectors.api.problems import Problem
from connectors.store import apikeys

# Connection ids are 64-bit integers; a larger number in the URL is no id at all.
MAX_ID = 2**63 - 1

REFUSALS = {
    "missing": lambda: _("Send an API key as “Authorization: Bearer <key>”."),
    "invalid": lambda: _("The API key is not valid: check it, or ask for a new one."),
    "revoked": lambda: _("The API key has been revoked: ask for a new one."),
    "expired": lambda: _("The API key has expired: ask for a new one."),
}


class ApiKeyAuth(HttpBearer):
    """Bearer authentication by API key; refuses with a 401 problem saying why.

    With `with_token=True` (the token handout) the key and the connection's token are read in
    one query (handout.find) and the view gets what it found instead of the ApiKey. One class
    either way: the OpenAPI document names a single security scheme."""

    def __init__(self, *, with_token=False):
        super().__init__()
        self.with_token = with_token

    def __call__(self, request):
        # Not HttpBearer.__call__: in DEBUG it logs a malformed header whole, key included.
        scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("missing")
        return self.authenticate(request, value.strip())

    def authenticate(self, request, token):
        if self.with_token:
            connection_id = request.resolver_match.kwargs.get("connection_id", 0)
            found = handout.find(token, connection_id if 0 < connection_id <= MAX_ID else 0, timezone.now())
            if found.problem:
                raise unauthorized(found.problem)
            return found
        result = apikeys.check(token)
        if result.api_key is None:
            raise unauthorized(result.problem)
        return result.api_key


def unauthorized(reason):
    # RFC 6750 §3.1: a request without credentials gets no error code; a bad key "invalid_token".
    challenge = 'Bearer realm="api"' if reason == "missing" else 'Bearer realm="api", error="invalid_token"'
    return Problem("invalid-key", REFUSALS[reason](), headers={"WWW-Authenticate": challenge})
