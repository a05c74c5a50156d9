"""The routes of /api/v1/: thin, the work is in service.py."""

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser

from connectors.api import errors, problem_pages, problems, proxy, service
from connectors.api.auth import ApiKeyAuth
from connectors.api.problems import Problem
from connectors.api.ratelimit import PerKeyThrottle
from connectors.api.schemas import ConnectionPage, ConnectionsQuery, ProblemOut, TestOut, TokenIn, TokenOut
from connectors.models import PROXY_METHODS


class JsonOrEmptyParser(Parser):
    """A JSON object or `null` as body, where an empty body (`curl -X POST`) and `null` mean every
    field's default. A body of another media type is refused with 415, one that is not a JSON
    object with 400 (both through on_http_error, which finds the problem as the cause)."""

    def parse_body(self, request):
        if not request.body.strip():
            return None
        if not is_json(request.content_type):
            raise Problem(
                "unsupported-media-type",
                _("Send the request body as JSON, with “Content-Type: application/json”."),
                headers={"Accept-Post": "application/json"},
            )
        body = super().parse_body(request)
        if body is not None and not isinstance(body, dict):
            raise ValueError("not a JSON object")
        return body


def is_json(content_type):
    media_type = (content_type or "").lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


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
# included, carries Cache-Control: no-store (answers.ProblemAnswers, for every path under /api/).

ERRORS = {status: ProblemOut for status in (401, 404, 429)}


@api.get(
    "/connections",
    response={200: ConnectionPage, 400: ProblemOut, **ERRORS},
    summary="The connections this key may see, a page at a time",
)
def list_connections(request, query: Query[ConnectionsQuery]):
    return service.list_connections(request, request.auth, query)


@api.post(
    "/connections/{int:connection_id}/token",
    response={
        200: TokenOut,
        400: ProblemOut,
        403: ProblemOut,
        409: ProblemOut,
        415: ProblemOut,
        502: ProblemOut,
        **ERRORS,
    },
    summary="A valid access token",
    auth=ApiKeyAuth(with_token=True),
)
def obtain_token(request, connection_id: int, body: TokenIn | None = None):
    # Declares the operation for the document; project/urls.py routes the path to the same steps
    # in handout_view.py first (the hot path without the framework's per-request machinery).
    body = body or TokenIn.model_validate({})
    return service.hand_out_token(
        request.auth, connection_id, min_valid_seconds=body.min_valid_seconds, force_refresh=body.force_refresh
    )


@api.post("/connections/{int:connection_id}/test", response={200: TestOut, **ERRORS}, summary="Test Connection")
def test_connection(request, connection_id: int):
    return service.run_test(request.auth, connection_id)


def proxy_call(request, connection_id: int, path: str):
    return proxy.forward(request, request.auth, connection_id, path)


# One operation per method, each with its own id in the document.
for _method in PROXY_METHODS:
    api.api_operation(
        [_method],
        "/connections/{int:connection_id}/proxy/{path:path}",
        response={400: ProblemOut, 403: ProblemOut, 409: ProblemOut, 502: ProblemOut, **ERRORS},
        operation_id=f"proxy_{_method.lower()}",
        auth=ApiKeyAuth(with_token=True),
        summary=f"{_method} through the proxy: the partner's API with the connection's token",
        description=(
            "Forwards the request to the connection's API base URL + `path` with its valid access token and "
            "answers with the partner's status, safe headers and body. Needs a key that may proxy, with this "
            "method among its proxy methods (GET only by default). The token never reaches the consumer."
        ),
    )(proxy_call)


@api.get("/problems/{slug}", auth=None, include_in_schema=False, throttle=[])
def problem_type(request, slug: str):
    """What a problem `type` URI leads to: its section of docs/api.md, as Markdown."""
    text = problem_pages.section(slug)
    if text is None:
        raise Problem("unknown-path", _("There is no such problem type."))
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")


# -- every error as problem details ---------------------------------------------------------------


@api.exception_handler(Problem)
def on_problem(request, exc):
    return problems.response(exc)


@api.exception_handler(ValidationError)
def on_invalid_request(request, exc):
    return errors.invalid_fields(exc.errors)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return problems.response(service.not_found())


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    if isinstance(exc.__cause__, Problem):  # raised by the parser (415)
        return problems.response(exc.__cause__)
    if exc.status_code == 429:
        return errors.rate_limited(getattr(exc, "wait", None))
    if exc.status_code == 400:  # a body that is not JSON
        return errors.not_json()
    return errors.unexpected(request, exc)


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    return errors.unexpected(request, exc)
