"""Proxied calls counted per connection and minute (models.ProxyUsage), read by the admin."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from connectors.models import ProxyUsage


def count_proxied(connection_id, *, failed=False, now=None):
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    increments = {"calls": F("calls") + 1, "failures": F("failures") + int(failed)}
    if ProxyUsage.objects.filter(connection_id=connection_id, minute=minute).update(**increments):
        return
    try:
        with transaction.atomic():
            ProxyUsage.objects.create(connection_id=connection_id, minute=minute, calls=1, failures=int(failed))
    except IntegrityError:  # another request counted the minute's first call meanwhile
        ProxyUsage.objects.filter(connection_id=connection_id, minute=minute).update(**increments)


def recent(connection_id, hours=24, now=None):
    """(calls, failures) through the proxy in the last `hours`."""
    since = (now or timezone.now()) - timedelta(hours=hours)
    totals = ProxyUsage.objects.filter(connection_id=connection_id, minute__gte=since).aggregate(
        calls=Sum("calls"), failures=Sum("failures")
    )
    return totals["calls"] or 0, totals["failures"] or 0
