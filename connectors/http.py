"""The one HTTP client for talking to partners: requests-oauthlib's OAuth2Session with a timeout
on every request, no redirects followed, a cap on the size of what is read, and every transport
error turned into an OAuthFailure sentence."""

import json

import requests
import urllib3
from requests_oauthlib import OAuth2Session

from . import failures
from .app_settings import app_settings


class PartnerSession(OAuth2Session):
    def request(self, method, url, *args, **kwargs):
        # A redirect could carry credentials to a host nobody vetted; answer it, never follow it.
        kwargs["allow_redirects"] = False
        kwargs["timeout"] = kwargs.get("timeout") or app_settings.HTTP_TIMEOUT
        kwargs["stream"] = True
        try:
            response = super().request(method, url, *args, **kwargs)
            read_bounded(response, url)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            # Reading the body ourselves (read_bounded) meets urllib3's errors unwrapped.
            raise failures.from_transport_error(error, url, app_settings.HTTP_TIMEOUT) from None
        return response


def read_bounded(response, url):
    limit = app_settings.MAX_RESPONSE_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise failures.too_large(url, limit)
    body = response.raw.read(limit + 1, decode_content=True)
    response.close()
    if len(body) > limit:
        raise failures.too_large(url, limit)
    response._content = body  # requests' own cache of the body, filled once
    response._content_consumed = True


def json_body(response):
    """The decoded JSON object of a response, or None when it is not JSON."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def check_token_response(response):
    """requests-oauthlib compliance hook: refuse answers that are not a token or an OAuth error
    before oauthlib parses them, so that each gets its own sentence."""
    url = response.url
    failure = failures.from_http_status(response, url, "token")
    if failure:
        raise failure
    body = json_body(response)
    if body is None or not isinstance(body, dict):
        raise failures.not_json(response, url)
    if "error" in body:
        return response  # oauthlib raises the matching OAuth2Error
    if response.status_code >= 400:
        raise failures.OAuthFailure(
            "http_error",
            f"The token endpoint answered HTTP {response.status_code} without an OAuth "
            "error: check the Access Token URL.",
            response.status_code,
        )
    if not body.get("access_token"):
        raise failures.no_token(response.status_code)
    return response


def partner_session(**kwargs):
    session = PartnerSession(**kwargs)
    session.register_compliance_hook("access_token_response", check_token_response)
    session.register_compliance_hook("refresh_token_response", check_token_response)
    return session
