"""What a partner may answer, checked before anyone uses it: one guard around every partner call.

A token answer is a JSON object whose `access_token` is a non-empty string; `refresh_token`,
`token_type` and `scope` are strings when present; `expires_in` is a whole number of seconds
(a value that is not, such as "soon", {} or 1e400, is dropped and the documented default
lifetime applies). Anything else a partner sends, however malformed (wrong types, absurd sizes,
nesting deep enough to exhaust the parser's recursion), becomes an OAuthFailure sentence, never
an exception: `guard()` is wrapped around every partner call in connectors/partners/oauth.py.
"""

import logging
from contextlib import contextmanager

from connectors.core import failures

logger = logging.getLogger("connectors.partners.answers")

# What malformed data raises in json, oauthlib and our own parsing: types, values, sizes, depth.
MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, RecursionError, UnicodeError)
STRING_FIELDS = ("refresh_token", "token_type", "id_token")
MAX_EXPIRES_IN = 10**9


@contextmanager
def guard(url):
    """Turn any malformed partner answer met inside the block into an OAuthFailure."""
    try:
        yield
    except failures.OAuthFailure:
        raise
    except MALFORMED as error:
        # The type only: the message of a parsing error may quote the answer (a token).
        logger.warning("unusable answer from %s: %s", failures.host_of(url), type(error).__name__)
        raise failures.malformed(url) from None


def usable_expires_in(value):
    """The lifetime in seconds, or None when the value is not a sane whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.strip().isdigit() and len(value.strip()) < 12:
        number = int(value)
    elif isinstance(value, float) and value.is_integer() and abs(value) < MAX_EXPIRES_IN:
        number = int(value)
    else:
        return None
    return number if 0 <= number <= MAX_EXPIRES_IN else None


def clean_token_answer(body, url, status=None):
    """The token answer `body` (a decoded JSON object) with only usable values; raises an
    OAuthFailure when it cannot be a token answer at all."""
    if "error" in body:
        error = body["error"]
        return {**body, "error": error if isinstance(error, str) else "invalid_answer"}
    token = body.get("access_token")
    if not token:
        raise failures.no_token(status)
    if not isinstance(token, str):
        raise failures.malformed(url)
    cleaned = dict(body)
    for name in STRING_FIELDS:
        if name in cleaned and not isinstance(cleaned[name], str):
            if name in ("token_type", "id_token"):
                cleaned.pop(name)
            else:
                raise failures.malformed(url)
    if "scope" in cleaned and not isinstance(cleaned["scope"], str):
        cleaned.pop("scope")  # unknown granted scope: the requested one is recorded
    if "expires_in" in cleaned:
        lifetime = usable_expires_in(cleaned["expires_in"])
        if lifetime is None:
            cleaned.pop("expires_in")  # the documented default lifetime applies
        else:
            cleaned["expires_in"] = lifetime
    return cleaned
