"""Generate / Regenerate: starting an authorization, and storing or refusing what comes back.

The one place that owns this flow (as allauth's oauth2 views do); the admin button and the
callback view only call it and show its sentences. A failure never touches the stored token.
"""

import sys

from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.core import failures, sentences, token_state
from connectors.core.callback import callback_url
from connectors.core.sentences import Sentence
from connectors.engine import revocation, schedule, state
from connectors.partners import accounts, discovery, grants, oauth
from connectors.store import events

# The sentences of this flow that events keep (connectors/core/sentences.py).
sentences.register(
    {
        "authorize_failed": gettext_lazy("Authorization failed: %(reason)s"),
        "authorize_no_token": gettext_lazy("No token: %(reason)s"),
        "scopes_not_granted": gettext_lazy("The provider did not grant: %(scopes)s."),
        "authorize_denied_said": gettext_lazy("The provider denied the authorization: “%(reason)s”"),
        "authorize_denied": gettext_lazy("Authorization was denied at the provider's login page."),
        "authorize_not_done": gettext_lazy("The provider did not authorize (%(error)s)."),
        "authorize_not_done_said": gettext_lazy("The provider did not authorize (%(error)s: %(description)s)."),
        "no_code_returned": gettext_lazy("no code returned"),
    }
)


def generate(request, connection):
    """What the Generate button does: the connection's grant decides, with this module as the
    flow it stores tokens and records events through (connectors/partners/grants/base.py)."""
    return grants.of(connection).generate(request, connection, sys.modules[__name__])


def authorization_redirect(request, connection, discovery_document=None):
    """Authorization code: the provider's login URL (PKCE S256, a single-use state kept in the
    session). Raises OAuthFailure when the authorization URL is not allowed. The realm's
    discovery document (connectors/partners/discovery.py), when read, says whether answers name their
    issuer."""
    verifier = oauth.new_pkce_verifier()
    # The connection's own callback URL and its server's issuer bind the answer to this flow
    # (the mix-up defence, connectors/engine/state.py).
    redirect_uri = callback_url(connection)
    issuer, issuer_required = discovery.issuer_requirement(connection, discovery_document)
    issued = state.issue(request, connection, verifier, redirect_uri, issuer, issuer_required)
    url = oauth.authorization_url(connection, redirect_uri, issued, verifier)
    events.record(connection, "authorize started", request.user)
    return url


def exchange_code(connection, grant, code, verifier, user, redirect_uri=None):
    """The callback's half: `grant` (the authorization code strategy) exchanges the code, with the
    redirect URI the flow was started with; returns (succeeded, sentence)."""
    try:
        token = grant.exchange_code(connection, code, verifier, redirect_uri or callback_url())
    except failures.OAuthFailure as failure:
        return False, refused(connection, user, Sentence("authorize_failed", reason=failure.message))
    return True, authorized(connection, grant, token, user)


def token_now(connection, grant, user):
    """Generate for a grant that needs no login page (password): a token at once with the
    stored credentials; returns (succeeded, sentence)."""
    try:
        token = grant.fetch_token(connection)
    except failures.OAuthFailure as failure:
        return False, refused(connection, user, Sentence("authorize_no_token", reason=failure.message))
    return True, authorized(connection, grant, token, user)


def authorized(connection, grant, token, user):
    replaced = connection.refresh_token
    token_state.store_token(connection, token, new_authorization=True)
    # Asked once, outside any transaction: whom the new token acts for (the person who logged
    # in; other grants name their account without asking).
    # Fields of the answer the provider needs later (a template's instance_url), before the
    # account is asked: its address may be one of them.
    details = connection.provider_info.details_from_token(connection, token)
    kept = ["token_details"] if hasattr(connection, "token_details") else []
    if kept:
        connection.token_details = details
    connection.token_account = (
        accounts.account_of_token(connection, connection.access_token, token) if grant.operator_logs_in else ""
    )
    connection.save(update_fields=[*token_state.TOKEN_FIELDS, "token_account", *kept])
    schedule.after_new_authorization(connection)  # the worker keeps it alive from now on
    events.record(connection, "authorized", user)
    # Not display.expiry_in_words: the badges' module sits above this flow (it reads health).
    sentence = _("Authorized: the token expires %(when)s.") % {
        "when": _("in %(duration)s") % {"duration": timeuntil(connection.token_expires_at, depth=1)}
    }
    missing = missing_scopes(connection.scope, token)
    if missing:
        events.record(
            connection,
            "scope not granted",
            user,
            succeeded=False,
            detail=Sentence("scopes_not_granted", scopes=" ".join(missing)),
        )
        if "offline_access" in missing:
            sentence += " " + _(
                "The provider did not grant offline_access: the refresh token ends with your login session "
                "at the provider. Allow offline access on its consent page (or ask the provider to enable it "
                "for this client), then click Regenerate."
            )
        else:
            sentence += " " + _("The provider did not grant: %(scopes)s.") % {"scopes": " ".join(missing)}
    revocation.after_replacement(connection, replaced, user)
    return sentence


def missing_scopes(requested, token):
    """Requested scopes the token answer says were not granted (RFC 6749 §5.1: an answer without
    `scope` grants what was asked)."""
    granted = token.get("scope")
    if granted is None:
        return []
    granted = set(granted.split() if isinstance(granted, str) else granted)
    return [scope for scope in (requested or "").split() if scope not in granted]


def refused(connection, user, sentence):
    """Record a refused authorization (`sentence`: a Sentence, shown in each reader's language)
    and return what to tell the operator now."""
    events.record(connection, "authorize failed", user, succeeded=False, detail=sentence)
    if connection.has_token:
        return _("%(sentence)s The previous token is kept.") % {"sentence": sentence}
    return str(sentence)
