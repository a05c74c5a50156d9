"""Renew, ahead of time, every token that expires soon, so that callers find a valid token
and a dead grant is noticed (and the admins told) before anyone needs the connection.

The background worker (`manage.py run_worker`) renews ahead of expiry by itself; this command
stays for a one-off run and for installations that prefer cron, e.g. every 5 minutes with the
default 10-minute window (README, Operations): the window is wider than the interval, so no token
expires between two runs unrenewed. Connections whose renewals are backing off after failures
are not tried before their next try (connectors/engine/backoff.py).
"""

import logging
from datetime import timedelta

from django.core.mail import mail_admins
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from connectors.core import failures, token_state
from connectors.core.app_settings import app_settings
from connectors.engine import alerts, tokens
from connectors.engine.runner import run_concurrently, with_provider_fields
from connectors.models import Connection, Status
from connectors.partners import grants
from connectors.store import chunks, health
from connectors.store.display import reason_in_words

logger = logging.getLogger("connectors.refresh_tokens")
DEFAULT_WINDOW_MINUTES = 10
REFRESHED, FAILED, REAUTHORIZE = "refreshed", "failed", "needs reauthorization"


class Command(BaseCommand):
    help = (
        "Refresh (or re-request) every token expiring within --within minutes (default "
        f"{DEFAULT_WINDOW_MINUTES}). Reports refreshed, failed and needs reauthorization; emails "
        "the site's ADMINS when a connection newly needs reauthorization; exits with status 1 "
        "when any renewal failed or a connection newly needs reauthorization."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--within",
            type=float,
            default=DEFAULT_WINDOW_MINUTES,
            metavar="MINUTES",
            help=f"Renew tokens expiring within this many minutes (default {DEFAULT_WINDOW_MINUTES}).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Connections renewed at once (default: PARTNER_CONNECTIONS['TEST_WORKERS']).",
        )

    def handle(self, *args, within, workers, **options):
        if within <= 0 or (workers is not None and workers < 1):
            raise CommandError(gettext("--within must be positive and --workers at least 1."), returncode=2)
        window = timedelta(minutes=within)
        # Connections already waiting for the operator (a Regenerate, or settings the provider
        # refused) are not retried: they were reported when they got there, and retrying only
        # earns another refusal (connectors/store/health.py).
        due = with_provider_fields(
            Connection.objects.filter(
                status=Status.AUTHORIZED,
                token_expires_at__lte=timezone.now() + window,
            ).exclude(health.REFUSAL_IN_FORCE)
        ).order_by("pk")
        waiting = Connection.objects.filter(status=Status.NEEDS_REAUTHORIZATION).count()

        counts = {REFRESHED: 0, FAILED: 0, REAUTHORIZE: 0}
        newly = []
        # In chunks by id (connectors/store/chunks.py): memory stays flat however many are due, and
        # a renewed token (expiring later) does not move a row within the walk.
        for chunk in chunks.in_chunks(due):
            outcomes = run_concurrently(lambda c: _renew(c.specific, window), chunk, workers=workers)
            for connection, (outcome, message) in zip(chunk, outcomes, strict=True):
                counts[outcome] += 1
                if outcome == REAUTHORIZE:
                    newly.append(connection)
                style = self.style.SUCCESS if outcome == REFRESHED else self.style.ERROR
                self.stdout.write(f"{style(outcome.upper())} #{connection.pk} {connection}: {message}")
        total = sum(counts.values())
        self.stdout.write(
            ngettext(
                "%(count)d token expiring within %(minutes)s min: %(refreshed)d refreshed, %(failed)d failed, "
                "%(newly)d newly need reauthorization (%(waiting)d already waiting for reauthorization).",
                "%(count)d tokens expiring within %(minutes)s min: %(refreshed)d refreshed, %(failed)d failed, "
                "%(newly)d newly need reauthorization (%(waiting)d already waiting for reauthorization).",
                total,
            )
            % {
                "count": total,
                "minutes": f"{within:g}",
                "refreshed": counts[REFRESHED],
                "failed": counts[FAILED],
                "newly": counts[REAUTHORIZE],
                "waiting": waiting,
            }
        )
        # Once per episode: the worker (connectors/engine/alerts.py) may have told the admins already.
        newly_unreported = [connection for connection in newly if alerts.claim_alert(connection.pk)]
        if newly_unreported:
            _notify_admins(newly_unreported)
        if counts[FAILED] or newly:
            raise CommandError(
                ngettext("%(failed)d renewal failed", "%(failed)d renewals failed", counts[FAILED])
                % {"failed": counts[FAILED]}
                + ", "
                + ngettext(
                    "%(count)d connection needs reauthorization.",
                    "%(count)d connections need reauthorization.",
                    len(newly),
                )
                % {"count": len(newly)},
                returncode=1,
            )


def _renew(connection, window):
    """(outcome, sentence) for one connection; never raises for a partner's failure."""
    try:
        tokens.get_access_token(connection, margin=window.total_seconds())
    except failures.OAuthFailure as failure:
        connection.refresh_from_db(fields=["status", "status_reason"])
        if connection.status == Status.NEEDS_REAUTHORIZATION:  # invalid_grant: tokens.py marked it
            return REAUTHORIZE, failure.message
        reason = grants.of(connection).unrenewable_reason
        if failure.kind in ("needs_reauthorization", "not_authorized") and reason:
            # Nothing to renew with: only the operator can get a new token. Mark it so the
            # admins are told once, not on every run.
            Connection.objects.filter(pk=connection.pk, status=Status.AUTHORIZED).update(
                **token_state.needs_reauthorization(reason)
            )
            return REAUTHORIZE, failure.message
        # A refusal of the settings starts its alert episode here, as in the worker.
        alerts.check(connection.pk)
        return FAILED, failure.message
    except Exception as error:  # noqa: BLE001 (one connection's bug must not stop the others; the type is logged)
        logger.error("renewing connection %s raised %s", connection.pk, type(error).__name__)
        return FAILED, gettext("The renewal could not run (%(error)s): see the server log.") % {
            "error": type(error).__name__
        }
    connection.refresh_from_db(fields=["token_expires_at"])
    return REFRESHED, gettext("valid until %(when)s.") % {
        "when": f"{timezone.localtime(connection.token_expires_at):%Y-%m-%d %H:%M %Z}"
    }


def _notify_admins(connections):
    base = app_settings.PUBLIC_BASE_URL
    for connection in connections:
        connection.refresh_from_db(fields=["status_reason"])
    lines = [
        f"- {connection} ({reason_in_words(connection) or gettext('the provider refused the stored authorization')})\n"
        f"  {base}{reverse(f'admin:connectors_{connection.specific._meta.model_name}_change', args=[connection.pk])}"
        for connection in connections
    ]
    mail_admins(
        ngettext(
            "%(count)d partner connection needs reauthorization",
            "%(count)d partner connections need reauthorization",
            len(connections),
        )
        % {"count": len(connections)},
        gettext(
            "These connections can no longer renew their tokens by themselves. Open each one and click "
            "Regenerate to log in at the provider again:"
        )
        + "\n\n"
        + "\n".join(lines)
        + "\n",
    )
