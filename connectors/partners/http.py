"""The one HTTP client for talking to partners: requests (and requests-oauthlib's OAuth2Session
for token requests) with a total deadline on every request (HTTP_TIMEOUT, connect to last byte),
no redirects followed, a cap on the size of what is read, the destination re-checked before each
request, and every transport error turned into an OAuthFailure sentence. `connection.session()`
goes through the same policy as token traffic."""

import http.client
import json
from urllib.parse import urlsplit

import requests
import urllib3
from requests_oauthlib import OAuth2Session

from connectors.core import failures
from connectors.core.app_settings import app_settings
from connectors.partners import answers, deadline


class BoundedRequests:
    """Mixed into a requests.Session: the outbound policy applied to every request it sends.

    `destination_check(url)`, when given, raises OAuthFailure for a URL the policy refuses; it
    runs before anything (a token included) is prepared for that URL."""

    destination_check = None
    # The fields the URLs are derived from, named in a sentence about a host that cannot be
    # found or an address that does not exist (the provider's url_source_fields).
    sources = ""

    def _mount_deadline_adapters(self):
        for prefix in ("https://", "http://"):
            self.mount(prefix, deadline.DeadlineAdapter())

    def request(self, method, url, *args, **kwargs):
        if self.destination_check is not None:
            self.destination_check(url)
        limit = app_settings.HTTP_TIMEOUT
        # A redirect could carry credentials to a host nobody vetted; answer it, never follow it.
        kwargs["allow_redirects"] = False
        kwargs["timeout"] = limit
        kwargs["stream"] = True
        with deadline.watch(limit) as watch:
            try:
                response = super().request(method, url, *args, **kwargs)
                read_bounded(response, url)
            except (
                requests.RequestException,
                urllib3.exceptions.HTTPError,
                http.client.HTTPException,
                OSError,
            ) as error:
                # Reading the body ourselves (read_bounded) meets urllib3's errors unwrapped; a
                # request cut at its deadline ends in whatever error the shut socket gave.
                cause = requests.exceptions.Timeout() if watch.expired else error
                raise failures.from_transport_error(cause, url, limit, self.sources) from None
        # For the token-answer hook, which sees only the response.
        response.partner_sources = self.sources
        return response


class PartnerSession(BoundedRequests, OAuth2Session):
    def __init__(self, *args, destination_check=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.destination_check = destination_check
        self._mount_deadline_adapters()


class BoundedSession(BoundedRequests, requests.Session):
    """A plain requests.Session under the partner policy (connection.session())."""

    def __init__(self, destination_check=None):
        super().__init__()
        self.destination_check = destination_check
        self._mount_deadline_adapters()


def read_bounded(response, url):
    limit = app_settings.MAX_RESPONSE_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        response.close()
        raise failures.too_large(url, limit)
    body = response.raw.read(limit + 1, decode_content=True)
    response.close()
    if len(body) > limit:
        raise failures.too_large(url, limit)
    response._content = body  # requests' own cache of the body, filled once
    response._content_consumed = True


def json_body(response):
    """The decoded JSON of a response, or None when it is not JSON. Deeply nested JSON raises
    RecursionError, which answers.guard() turns into a failure sentence."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def check_token_response(response):
    """requests-oauthlib compliance hook: refuse answers that are not a token or an OAuth error
    before oauthlib parses them, so that each gets its own sentence, and hand oauthlib only
    values of the types it expects (answers.clean_token_answer)."""
    url = response.url
    failure = failures.from_http_status(response, url, "token", getattr(response, "partner_sources", ""))
    if failure:
        raise failure
    body = json_body(response)
    if body is None or not isinstance(body, dict):
        raise failures.not_json(response, url)
    if "error" not in body and response.status_code >= 400:
        raise failures.failure("http_error", response.status_code, "token_http_error", status=response.status_code)
    cleaned = answers.clean_token_answer(body, url, response.status_code)
    response._content = json.dumps(cleaned).encode()
    return response  # with an "error", oauthlib raises the matching OAuth2Error


def origin_url(url):
    """scheme://host[:port]/ of a URL: what the outbound policy judges for API requests, whose
    paths and queries are the caller's business."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}/"
    except ValueError:
        return url


def partner_session(destination_check=None, sources="", **kwargs):
    session = PartnerSession(destination_check=destination_check, **kwargs)
    session.sources = str(sources)
    session.register_compliance_hook("access_token_response", check_token_response)
    session.register_compliance_hook("refresh_token_response", check_token_response)
    return session
