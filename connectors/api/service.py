"""What the API's endpoints do, apart from HTTP: which connection a key may use, handing out a
token through the one renewal path (connectors/engine/tokens.py), and Test Connection."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.api import handout, paging, problems
from connectors.api.problems import Problem
from connectors.core import failures, sentences
from connectors.core.app_settings import app_settings
from connectors.engine import alerts, diagnostics, tokens
from connectors.models import Connection, Status
from connectors.partners.providers import PROVIDERS
from connectors.store import apikeys, display
from connectors.store.health import filter_by_health, health_of

sentences.register({"token_handed_out": gettext_lazy("to API key “%(name)s”")})

PAGE_PARAMETERS = {"limit", "cursor", "provider", "health"}


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


def list_connections(request, api_key, query):
    """One page of the connections `api_key` may see, in id order (stable while connections are
    added and removed), and the headers that go with it."""
    unknown = sorted(set(request.GET) - PAGE_PARAMETERS)
    if unknown:
        raise Problem(
            "invalid-request",
            _("Unknown query parameters: %(names)s.") % {"names": ", ".join(unknown)},
            errors=[{"field": name, "message": _("unknown parameter")} for name in unknown],
        )
    after = paging.after(query.cursor)
    now = timezone.now()
    connections = Connection.objects.filter(apikeys.visible_to(api_key), pk__gt=after)
    if query.provider:
        connections = connections.filter(provider=query.provider.value)
    if query.health:
        connections = filter_by_health(connections, query.health.value, now)
    page = list(connections.order_by("pk")[: query.limit + 1])
    more = len(page) > query.limit
    page = page[: query.limit]
    next_url = paging.next_url(request, page[-1].pk) if more else None
    answer = HttpResponse(
        json.dumps({"items": [connection_summary(c, now) for c in page], "next": next_url}, cls=DjangoJSONEncoder),
        content_type="application/json",
    )
    if next_url:
        answer["Link"] = f'<{next_url}>; rel="next"'
    return answer


def visible_connection(api_key, connection_id):
    """The connection as its provider's model, in one query (every provider's table joined, so
    `.specific` needs no second one); not found when the key may not see it."""
    if not 0 < connection_id <= MAX_ID:
        raise not_found()
    children = [provider.model_name.lower() for provider in PROVIDERS.values()]
    connection = (
        Connection.objects.select_related(*children).filter(apikeys.visible_to(api_key), pk=connection_id).first()
    )
    if connection is None:
        raise not_found()
    return connection.specific


def hand_out_token(found, connection_id, *, min_valid_seconds=None, force_refresh=False):
    """The token answer for `connection_id` (a JSON response), renewed first when needed; records
    the handout. `found` is what the handout's authentication read (handout.find)."""
    if not found.may_obtain_tokens:
        raise Problem(
            "tokens-not-allowed",
            _("This API key may read connections and their health, not obtain tokens: ask for a key that may."),
        )
    if not found.visible:
        raise not_found()
    margin = app_settings.REFRESH_MARGIN_SECONDS if min_valid_seconds is None else min_valid_seconds
    now = timezone.now()
    access_token = None if force_refresh else handout.fresh_token(found, margin, now)
    expires_at, token_type, scope = found.expires_at, found.token_type, found.scope
    if access_token is None:
        connection = Connection.objects.get(pk=connection_id)
        try:
            # A consumer's force_refresh honours the partner's cooldown (Retry-After, backoff).
            access_token = tokens.get_access_token(connection, margin=margin, force=force_refresh, honour_cooldown=True)
        except failures.OAuthFailure as failure:
            # A refusal or a dead authorization met here starts its alert episode, as in the worker.
            alerts.check(connection_id)
            raise problem_from_failure(connection, failure) from None
        expires_at, token_type, scope = connection.token_expires_at, connection.token_type, connection.token_scope
    handout.record(connection_id, found.key_id, found.key_name, found.last_used_at, now)
    expires_in = int((expires_at - timezone.now()).total_seconds()) if expires_at else None
    body = {
        "access_token": access_token,
        "token_type": token_type or "Bearer",
        "expires_at": expires_at.isoformat().replace("+00:00", "Z") if expires_at else None,
        "expires_in": expires_in,
        "scope": scope,
    }
    return HttpResponse(json.dumps(body), content_type="application/json")


def run_test(api_key, connection_id):
    connection = visible_connection(api_key, connection_id)
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
