"""Event retention: events older than EVENT_RETENTION_DAYS are deleted by the worker, except the
newest EVENT_KEEP_PER_CONNECTION of each connection, so that a quiet connection keeps its story.

Connection by connection, each step an indexed query (the events per connection, newest first;
the events by time), so that a prune costs the same on SQLite and PostgreSQL whatever the
planner's statistics say (one window function over the whole table did not).
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from connectors.core.app_settings import app_settings
from connectors.models import Event


def prune_events(now=None):
    """Delete the events past retention; the number deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=app_settings.EVENT_RETENTION_DAYS)
    keep = app_settings.EVENT_KEEP_PER_CONNECTION
    with_old = Event.objects.filter(at__lt=cutoff).order_by().values_list("connection_id", flat=True).distinct()
    deleted = 0
    for connection_id in list(with_old):
        events = Event.objects.filter(connection_id=connection_id)
        # The oldest of the newest `keep`: everything older than it may go, if past retention.
        boundary = events.order_by("-at", "-id").values_list("at", "id")[keep - 1 : keep].first()
        if boundary is None:
            continue  # fewer than `keep` events: all stay
        at, pk = boundary
        older = Q(at__lt=at) | Q(at=at, id__lt=pk)
        deleted += events.filter(older, at__lt=cutoff).delete()[0]
    return deleted
