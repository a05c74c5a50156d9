"""Whom a new authorization belongs to, asked once right after Generate: the operator sees which
account at the provider the token acts as ("Connected as"). A failure here never fails the
authorization: the account stays unnamed.

A conforming userinfo answers only `sub` for scope `openid` (OpenID Connect Core §5.4: the name
comes with `profile`, the e-mail with `email`), so the most readable claim present is taken,
down to `sub`; when userinfo says nothing (none, or it refused), the ID token of the same answer
is read the same way."""

import base64
import binascii
import json
import logging

from connectors.core import failures, text
from connectors.partners import oauth
from connectors.partners.http import json_body, partner_session

logger = logging.getLogger("connectors.partners.accounts")

# The claims that name an account, most readable first (OpenID Connect Core §5.1).
NAME_CLAIMS = ("preferred_username", "email", "name", "sub")


def account_of_token(connection, access_token, token=None):
    """The account a token of a person's login acts for: from the provider's userinfo (its
    probe at Keycloak, and at the generic provider by default), else from the ID token of the
    token answer `token`."""
    return _name_in(_userinfo(connection, access_token)) or _name_in(id_token_claims(token))


def _userinfo(connection, access_token):
    url = connection.provider_info.account_url(connection)
    if not url:
        return None
    try:
        oauth.check_destination(connection, url)
        session = partner_session(token={"access_token": access_token, "token_type": "Bearer"})
        response = session.get(url, headers={"Accept": "application/json"})
    except failures.OAuthFailure as failure:
        logger.info("connection %s: no account name (%s)", connection.pk, failure.kind)
        return None
    return json_body(response) if response.status_code == 200 else None


def _name_in(claims):
    if not isinstance(claims, dict):
        return ""
    for claim in NAME_CLAIMS:
        value = claims.get(claim)
        # Shown as "connected as …": cleaned like every partner string (a bidi override such as
        # U+202E could make it read as another account).
        name = text.partner_words(value, limit=255) if isinstance(value, str) else ""
        if name:
            return name
    return ""


def id_token_claims(token):
    """The claims of the ID token in a token answer, read for the account's name only: the answer
    came straight from the token endpoint over the connection's checked URL (OpenID Connect Core
    §3.1.3.7 lets TLS stand in for the signature there), and nothing is authorized on them."""
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str) or id_token.count(".") != 2 or len(id_token) > 20_000:
        return {}
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return {}
    return claims if isinstance(claims, dict) else {}
