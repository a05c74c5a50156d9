"""Mail to the site's ADMINS when a connection needs them: once per episode.

An episode starts when a connection needs reauthorization (only the operator's Regenerate helps),
when the provider refuses its saved settings (connectors/store/health.py: not retried until they
change), or when it has failed to renew for longer than ALERT_AFTER; it ends with a successful
renewal or a new authorization (both clear `renewal_alerted_at`), and a refusal of changed
settings starts a new one. Whoever meets the failure asks `check()`: the worker, a consumer's
token request, a test. The mail is claimed by a conditional UPDATE of `renewal_alerted_at`, so
that several workers never send the same one twice.
"""

from datetime import timedelta

from django.core.mail import mail_admins
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors.core.app_settings import app_settings
from connectors.models import Connection, Status
from connectors.store import health
from connectors.store.display import reason_in_words, refusal_in_words


def change_url(connection):
    model = connection.specific._meta.model_name
    return f"{app_settings.PUBLIC_BASE_URL}{reverse(f'admin:connectors_{model}_change', args=[connection.pk])}"


def claim_alert(pk, now=None):
    """True for the one caller that may mail about the current episode of connection `pk`."""
    now = now or timezone.now()
    return Connection.objects.filter(pk=pk, renewal_alerted_at__isnull=True).update(renewal_alerted_at=now) == 1


def check(pk, now=None):
    """Mail the admins if connection `pk` has started an episode not reported yet; True if sent."""
    now = now or timezone.now()
    connection = Connection.objects.get(pk=pk)
    if connection.renewal_alerted_at is not None:
        return False
    if connection.status == Status.NEEDS_REAUTHORIZATION:
        subject = _("Partner connection needs reauthorization: %(name)s") % {"name": connection}
        body = _(
            "%(name)s can no longer renew its token by itself (%(reason)s). Open it and click "
            "Regenerate to log in at the provider again:\n\n%(url)s\n"
        ) % {"name": connection, "reason": str(reason_in_words(connection)).rstrip("."), "url": change_url(connection)}
    elif health.refusal_in_force(connection):
        subject = _("Partner connection refused by the provider: %(name)s") % {"name": connection}
        body = _(
            "The provider refused the saved settings of %(name)s: %(reason)s It is not retried until "
            "someone corrects them. Open it, correct the fields named and save:\n\n%(url)s\n"
        ) % {"name": connection, "reason": refusal_in_words(connection), "url": change_url(connection)}
    elif connection.renewal_failing_since and now - connection.renewal_failing_since >= timedelta(
        seconds=app_settings.ALERT_AFTER
    ):
        subject = _("Partner connection failing to renew: %(name)s") % {"name": connection}
        last_failure = connection.events.filter(succeeded=False).first()
        last = last_failure.message if last_failure else ""
        body = ngettext(
            "Renewing the token of %(name)s has failed %(attempts)s time since %(since)s; the "
            "next try is at %(next)s. The last failure: %(last)s\n\n%(url)s\n",
            "Renewing the token of %(name)s has failed %(attempts)s times since %(since)s; the "
            "next try is at %(next)s. The last failure: %(last)s\n\n%(url)s\n",
            connection.renewal_attempts,
        ) % {
            "name": connection,
            "attempts": connection.renewal_attempts,
            "since": f"{timezone.localtime(connection.renewal_failing_since):%Y-%m-%d %H:%M %Z}",
            "next": f"{timezone.localtime(connection.next_renewal_at):%Y-%m-%d %H:%M %Z}"
            if connection.next_renewal_at
            else "-",
            "last": last,
            "url": change_url(connection),
        }
    else:
        return False
    if not claim_alert(pk, now):
        return False
    mail_admins(subject, body)
    return True
