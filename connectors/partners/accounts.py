"""Whom a new authorization belongs to, asked once right after Generate: the operator sees which
account at the provider the token acts as (Inverbis: the userinfo's preferred_username or email).
A failure here never fails the authorization: the account stays unnamed."""

import logging

from connectors.core import failures, text
from connectors.partners import oauth
from connectors.partners.http import json_body, partner_session

logger = logging.getLogger("connectors.partners.accounts")


def account_of_token(connection, access_token):
    """The account a token of a person's login acts for (asked of the provider's probe, which is
    its userinfo endpoint at Keycloak and at the generic provider by default)."""
    url = connection.provider_info.probe_url(connection)  # Keycloak's userinfo
    try:
        oauth.check_destination(connection, url)
        session = partner_session(token={"access_token": access_token, "token_type": "Bearer"})
        response = session.get(url, headers={"Accept": "application/json"})
    except failures.OAuthFailure as failure:
        logger.info("connection %s: no account name (%s)", connection.pk, failure.kind)
        return ""
    body = json_body(response) if response.status_code == 200 else None
    if not isinstance(body, dict):
        return ""
    name = body.get("preferred_username") or body.get("email") or ""
    # Shown as "connected as …": cleaned like every partner string (a bidi override such as
    # U+202E could make it read as another account).
    return text.partner_words(name, limit=255) if isinstance(name, str) else ""
