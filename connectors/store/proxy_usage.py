"""Proxied calls counted per connection and minute (models.ProxyUsage), read by the admin."""

import functools
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import F, Sum
from django.utils import timezone

from connectors.core.app_settings import app_settings
from connectors.models import ProxyUsage


def count_proxied(connection_id, *, failed=False, now=None):
    """One more call (and failure) in this minute's count: one UPDATE, an INSERT for the minute's
    first call."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    increments = {"calls": F("calls") + 1, "failures": F("failures") + int(failed)}
    database = connections[DEFAULT_DB_ALIAS]
    with database.cursor() as cursor:
        cursor.execute(_increment_sql(), [int(failed), connection_id, database.ops.adapt_datetimefield_value(minute)])
        if cursor.rowcount:
            return
    try:
        with transaction.atomic():
            ProxyUsage.objects.create(connection_id=connection_id, minute=minute, calls=1, failures=int(failed))
    except IntegrityError:  # another request counted the minute's first call meanwhile
        ProxyUsage.objects.filter(connection_id=connection_id, minute=minute).update(**increments)
        return
    # A minute's first call also drops the connection's counts past the events' retention, so the
    # table holds at most EVENT_RETENTION_DAYS of minutes per connection without a task of its own.
    cutoff = minute - timedelta(days=app_settings.EVENT_RETENTION_DAYS)
    ProxyUsage.objects.filter(connection_id=connection_id, minute__lt=cutoff).delete()


@functools.cache
def _increment_sql():
    # Plain SQL: the ORM's update() costs several times the statement on the proxy's hot path.
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = ProxyUsage._meta

    def column(name):
        return quote(meta.get_field(name).column)

    return (
        f"UPDATE {quote(meta.db_table)} SET {column('calls')} = {column('calls')} + 1, "
        f"{column('failures')} = {column('failures')} + %s "
        f"WHERE {column('connection')} = %s AND {column('minute')} = %s"
    )


def recent(connection_id, hours=24, now=None):
    """(calls, failures) through the proxy in the last `hours`."""
    since = (now or timezone.now()) - timedelta(hours=hours)
    totals = ProxyUsage.objects.filter(connection_id=connection_id, minute__gte=since).aggregate(
        calls=Sum("calls"), failures=Sum("failures")
    )
    return totals["calls"] or 0, totals["failures"] or 0
