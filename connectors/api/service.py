"""What the API's endpoints do, apart from HTTP: which connection a key may use, handing out a
token through the one renewal path (connectors/engine/tokens.py), and Test Connection."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.api import problems
from connectors.api.problems import Problem
from connectors.core import failures, sentences
from connectors.core.app_settings import app_settings
from connectors.core.sentences import Sentence
from connectors.engine import diagnostics, tokens
from connectors.models import Connection, Status
from connectors.store import apikeys, display, events
from connectors.store.health import health_of

sentences.register({"token_handed_out": gettext_lazy("to API key “%(name)s”")})

TOKEN_COLUMNS = ("access_token", "token_expires_at", "token_type", "token_scope")


# Connection ids are 64-bit integers; a larger number in the URL is no id at all (the database
# would refuse to compare with it).
MAX_ID = 2**63 - 1


def not_found():
    # The same answer for a connection that does not exist and one the key may not see, so a key
    # cannot find out which ids exist.
    return Problem("not-found", _("There is no connection with this id for this API key."))


def connection_summary(connection, now=None):
    state = health_of(connection, now)
    last_test = None
    if connection.last_test_at is not None:
        last_test = {
            "at": connection.last_test_at,
            "passed": bool(connection.last_test_passed),
            "message": str(display.last_test_in_words(connection)),
        }
    return {
        "id": connection.pk,
        "provider": connection.provider,
        "provider_label": str(connection.provider_info.label),
        "name": connection.name,
        "health": {"code": state.code.value, "label": str(state.label)},
        "token_expires_at": connection.token_expires_at if connection.access_token else None,
        "last_test": last_test,
    }


def list_connections(api_key):
    now = timezone.now()
    return [connection_summary(c, now) for c in apikeys.connections_for(api_key).order_by("provider", "name", "pk")]


def visible_connection(api_key, connection_id):
    if not 0 < connection_id <= MAX_ID:
        raise not_found()
    connection = Connection.objects.filter(apikeys.visible_to(api_key), pk=connection_id).first()
    if connection is None:
        raise not_found()
    return connection


def hand_out_token(api_key, connection_id, *, min_valid_seconds=None, force_refresh=False):
    """The token answer for `connection_id`, renewed first when needed; records the handout."""
    if not api_key.may_obtain_tokens:
        raise Problem(
            "tokens-not-allowed",
            _("This API key may read connections and their health, not obtain tokens: ask for a key that may."),
        )
    margin = app_settings.REFRESH_MARGIN_SECONDS if min_valid_seconds is None else min_valid_seconds
    if not 0 < connection_id <= MAX_ID:
        raise not_found()
    # The hot path: one query for the token columns of a connection the key may see.
    row = Connection.objects.filter(apikeys.visible_to(api_key), pk=connection_id).values_list(*TOKEN_COLUMNS).first()
    if row is None:
        raise not_found()
    access_token, expires_at, token_type, scope = row
    if force_refresh or not tokens.is_fresh(access_token, expires_at, margin=margin):
        connection = Connection.objects.get(pk=connection_id)
        try:
            # A consumer's force_refresh honours the partner's cooldown (Retry-After, backoff).
            access_token = tokens.get_access_token(connection, margin=margin, force=force_refresh, honour_cooldown=True)
        except failures.OAuthFailure as failure:
            raise problem_from_failure(connection, failure) from None
        expires_at, token_type, scope = connection.token_expires_at, connection.token_type, connection.token_scope
    events.record(
        Connection(pk=connection_id),
        "token handed out",
        detail=Sentence("token_handed_out", name=api_key.name),
    )
    expires_in = int((expires_at - timezone.now()).total_seconds()) if expires_at else None
    return {
        "access_token": access_token,
        "token_type": token_type or "Bearer",
        "expires_at": expires_at,
        "expires_in": expires_in,
        "scope": scope,
    }


def run_test(api_key, connection_id):
    connection = visible_connection(api_key, connection_id).specific
    # A consumer's test probes with the token it would be handed (partner cooldowns honoured).
    return diagnostics.run_test(connection, record=True, reuse_token=True).as_dict()


def problem_from_failure(connection, failure):
    """The problem answer for a renewal that failed, with the sentence the admin shows."""
    # A refused refresh token (invalid_grant) has just made the connection "needs
    # reauthorization": read the status as stored now.
    status = Connection.objects.filter(pk=connection.pk).values_list("status", flat=True).first()
    if failure.kind == "needs_reauthorization" or status == Status.NEEDS_REAUTHORIZATION:
        return Problem("needs-reauthorization", failure.message, regenerate_url=admin_page(connection))
    if failure.kind == "not_authorized":
        return Problem("not-authorized", failure.message, regenerate_url=admin_page(connection))
    if failure.kind == "renewal_backoff":
        # Renewals wait for the partner: say when the next try is, in the header clients obey.
        next_try = Connection.objects.filter(pk=connection.pk).values_list("next_renewal_at", flat=True).first()
        if next_try is not None:
            wait = max(int((next_try - timezone.now()).total_seconds()), 1)
            return Problem(
                "partner-failed",
                failure.message,
                kind=failure.kind,
                retry_at=next_try.isoformat(timespec="seconds"),
                headers={"Retry-After": problems.retry_after(wait)},
            )
    return Problem("partner-failed", failure.message, kind=failure.kind)


def admin_page(connection):
    """The connection's admin page (with Generate/Regenerate), absolute from PUBLIC_BASE_URL."""
    model_name = connection.provider_info.model_name.lower()
    return app_settings.PUBLIC_BASE_URL + reverse(f"admin:connectors_{model_name}_change", args=[connection.pk])
