"""RFC 7009: a refresh token this app no longer uses is revoked at the provider, when the
provider has a revocation endpoint (Provider.revocation_url).

Two moments: a connection is deleted, and an authorization is replaced by a new one (Regenerate).
Neither waits on the provider's answer for its own outcome: the request has a short timeout
(REVOCATION_TIMEOUT), runs after the database transaction commits (never while a transaction is
open), and a failure is recorded while the deletion or the new authorization stands.

Where the outcome goes: after a replacement, in the connection's events. After a deletion the
connection and its events are gone, so the outcome goes to the `connectors.store.events` log, the
same log every event is written to.
"""

import copy
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models.signals import pre_delete
from django.utils.translation import gettext_lazy

from connectors.core import failures, sentences
from connectors.core.sentences import Sentence
from connectors.partners import oauth
from connectors.store import events, policy

if TYPE_CHECKING:
    from connectors.models import Connection

logger = logging.getLogger("connectors.store.events")

# The outcomes the events keep (connectors/core/sentences.py).
sentences.register(
    {
        "revocation_failed": gettext_lazy(
            "The previous refresh token could not be revoked at the provider: %(reason)s"
        ),
        "revoked": gettext_lazy("The previous refresh token was revoked at %(host)s."),
        "revocation_skipped": gettext_lazy(
            "The previous refresh token was not revoked: at %(provider)s that would also end the new authorization."
        ),
        "revocation_skipped_choice": gettext_lazy(
            "The previous refresh token was not revoked: this connection does not say that its server revokes "
            "single tokens, and revoking at a server that ends the whole grant would also end the new "
            "authorization."
        ),
    }
)


def can_revoke(connection: "Connection", refresh_token: str) -> bool:
    return bool(refresh_token and connection.provider_info.revocation_url(connection))


def _revoke(connection: "Connection", refresh_token: str) -> tuple[bool, Sentence]:
    """(succeeded, sentence); never raises. It runs after a commit (the deletion or the change
    stands): whatever the partner answers, the outcome is an event or a log line, never a server
    error that would lose it."""
    try:
        url = oauth.revoke(connection, refresh_token)
    except failures.OAuthFailure as failure:
        return False, Sentence("revocation_failed", reason=failure.message)
    except Exception as error:  # noqa: BLE001  (a bug here must not turn a committed delete into a 500)
        # The type only: an exception's text may quote the partner's answer.
        logger.error("revocation for connection %s raised %s", connection.pk, type(error).__name__)
        url = connection.provider_info.revocation_url(connection)
        return False, Sentence("revocation_failed", reason=failures.malformed(url).message)
    return True, Sentence("revoked", host=failures.host_of(url))


# -- a replaced authorization -------------------------------------------------------------------


def after_replacement(connection: "Connection", old_refresh_token: str, user: Any = None) -> None:
    """Revoke the refresh token a new authorization replaced, once the new one is committed."""
    if not old_refresh_token or old_refresh_token == connection.refresh_token:
        return
    if not can_revoke(connection, old_refresh_token):
        return
    if connection.provider_info.revocation_ends_grant_of(connection):
        # Revoking it would end the client's whole grant at this provider, the new
        # authorization included (Keycloak removes the consent and every client session).
        events.record(connection, "revocation skipped", user, detail=_skipped_sentence(connection))
        return
    transaction.on_commit(partial(_revoke_replaced, connection, old_refresh_token, user))


def _skipped_sentence(connection: "Connection") -> Sentence:
    if connection.provider_info.revocation_ends_grant:  # a fact of the provider (Keycloak)
        return Sentence("revocation_skipped", provider=sentences.Label(connection.provider_info.label))
    return Sentence("revocation_skipped_choice")  # the connection's choice (the generic provider)


def _revoke_replaced(connection: "Connection", refresh_token: str, user: Any) -> None:
    succeeded, sentence = _revoke(connection, refresh_token)
    events.record(
        connection, "revoked" if succeeded else "revocation failed", user, succeeded=succeeded, detail=sentence
    )


def after_host_change(sender: type, stored: "Connection", user: Any = None, **kwargs: Any) -> None:
    """A URL moved to another origin and the tokens were dropped (store.policy.origins_moved,
    whichever door saved the move): revoke the dropped refresh token at the server that issued it
    (`stored`, the connection as it was before the change), once the change is committed."""
    if not can_revoke(stored, stored.refresh_token):
        return
    if stored.provider_info.revocation_ends_grant_of(stored) and _shares_the_grant(stored):
        return
    transaction.on_commit(partial(_revoke_replaced, copy.copy(stored), stored.refresh_token, user))


# -- a deleted connection -----------------------------------------------------------------------


def on_pre_delete(sender: type, instance: object, **kwargs: Any) -> None:
    """Before a connection row goes (admin, queryset, command alike): remember its refresh token
    and revoke it once the deletion is committed; a rolled-back deletion revokes nothing."""
    from connectors.models import Connection

    # Deleting a provider's connection deletes its base row too: act once, on the provider's model.
    if not isinstance(instance, Connection) or type(instance) is Connection:
        return
    if not can_revoke(instance, instance.refresh_token):
        return
    if instance.provider_info.revocation_ends_grant_of(instance) and _shares_the_grant(instance):
        logger.info(
            "connection %s (%s) deleted: its refresh token was not revoked, because another connection "
            "uses the same client there and revoking would end its authorization too.",
            instance.pk,
            instance.name,
        )
        return
    # A copy: the deletion sets the instance's primary key to None afterwards.
    transaction.on_commit(partial(_revoke_deleted, copy.copy(instance)), using=kwargs.get("using"))


def _shares_the_grant(connection: "Connection") -> bool:
    """Another connection holds a refresh token of the same client at the same token endpoint:
    where revocation ends the client's whole grant for the user, it could end that one too."""
    others = type(connection).objects.filter(client_id=connection.client_id, token_url=connection.token_url)
    # Encrypted values cannot be compared in SQL: read the few candidates' tokens.
    return any(other.refresh_token for other in others.exclude(pk=connection.pk).only("refresh_token"))


def _revoke_deleted(connection: "Connection") -> None:
    succeeded, sentence = _revoke(connection, connection.refresh_token)
    log = logger.info if succeeded else logger.warning
    log("connection %s (%s) deleted: %s", connection.pk, connection.name, sentence)


def connect() -> None:
    pre_delete.connect(on_pre_delete, dispatch_uid="connectors.engine.revocation.on_pre_delete")
    policy.origins_moved.connect(after_host_change, dispatch_uid="connectors.engine.revocation.after_host_change")
