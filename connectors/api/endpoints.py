"""The routes of /api/v1/: thin, the work is in service.py."""

import logging

from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser

from connectors.api import problems, service
from connectors.api.auth import ApiKeyAuth
from connectors.api.problems import Problem
from connectors.api.ratelimit import PerKeyThrottle
from connectors.api.schemas import ConnectionOut, ProblemOut, TestOut, TokenIn, TokenOut

logger = logging.getLogger("connectors.api")


class JsonOrEmptyParser(Parser):
    """A JSON object as body, where an empty body means every field's default (`curl -X POST`
    works); anything else is refused as a 400 problem (on_http_error)."""

    def parse_body(self, request):
        if not request.body.strip():
            return {}
        body = super().parse_body(request)
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        return body


class TokenApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The generated document, with error answers under their real media type."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    if int(status) >= 400 and "application/json" in answer.get("content", {}):
                        answer["content"] = {problems.CONTENT_TYPE: answer["content"]["application/json"]}
        return schema


api = TokenApi(
    title="Partner Connections token API",
    version="1",
    description=(
        "Valid access tokens and the health of partner connections for services outside this "
        "process. Authenticate with `Authorization: Bearer <API key>`; errors are RFC 9457 "
        "problem details (application/problem+json)."
    ),
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    throttle=PerKeyThrottle(),
    docs_url=None,  # the interactive page loads scripts from a CDN; the JSON document suffices
    parser=JsonOrEmptyParser(),
)
# Tokens and connection states must not be kept by a browser or a proxy: every answer, errors
# included, carries Cache-Control: no-store.
api.add_decorator(never_cache, mode="view")

ERRORS = {status: ProblemOut for status in (401, 404, 429)}


@api.get("/connections/", response={200: list[ConnectionOut], **ERRORS}, summary="The connections this key may see")
def list_connections(request):
    return service.list_connections(request.auth)


@api.post(
    "/connections/{int:connection_id}/token",
    response={200: TokenOut, 400: ProblemOut, 403: ProblemOut, 409: ProblemOut, 502: ProblemOut, **ERRORS},
    summary="A valid access token",
)
def obtain_token(request, connection_id: int, body: TokenIn | None = None):
    body = body or TokenIn.model_validate({})
    return service.hand_out_token(
        request.auth, connection_id, min_valid_seconds=body.min_valid_seconds, force_refresh=body.force_refresh
    )


@api.post("/connections/{int:connection_id}/test", response={200: TestOut, **ERRORS}, summary="Test Connection")
def test_connection(request, connection_id: int):
    return service.run_test(request.auth, connection_id)


# -- every error as problem details ---------------------------------------------------------------


@api.exception_handler(Problem)
def on_problem(request, exc):
    return problems.response(exc)


@api.exception_handler(ValidationError)
def on_invalid_request(request, exc):
    errors = [{"field": _field_of(error), "message": error.get("msg", "")} for error in exc.errors]
    fields = ", ".join(sorted({error["field"] for error in errors}))
    detail = _("Fix these fields of the request: %(fields)s.") % {"fields": fields}
    return problems.response(Problem("invalid-request", detail, errors=errors))


def _field_of(error):
    # ninja locates a body field as ("body", "body", name): name the field as the client sent it.
    parts = [str(part) for part in error.get("loc", ()) if part != "body"]
    return ".".join(parts) or "body"


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return problems.response(service.not_found())


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    if exc.status_code == 429:
        wait = getattr(exc, "wait", None)
        return problems.response(
            Problem(
                "rate-limited",
                _("This API key has made too many requests: wait, then try again."),
                headers={"Retry-After": problems.retry_after(wait or 1)},
            )
        )
    if exc.status_code == 400:  # a body that is not JSON
        return problems.response(
            Problem(
                "invalid-request", _("Send the request body as a JSON object (application/json), or no body at all.")
            )
        )
    return problems.response(Problem("invalid-request", str(exc)))


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    # The type only: an exception's text may quote data that must not reach a log.
    logger.error("API request %s %s raised %s", request.method, request.path, type(exc).__name__)
    return problems.response(Problem("server-error", _("The request could not be handled: see the server log.")))
