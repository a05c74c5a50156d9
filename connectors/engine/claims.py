"""Claims (leases) stored on a row: who may do a slow thing (renew a token, probe a partner host)
right now, without holding a database transaction while it waits on the network.

A claim is taken by one short conditional UPDATE (it succeeds only when the row is unclaimed or
its claim has expired) and released by another that matches the holder. A holder that dies
(killed, machine lost) leaves its claim behind; it expires after `lifetime()`, longer than the
slow thing can take, and the next one takes it over. The same code on SQLite and PostgreSQL: an
UPDATE is atomic on both, so two claimants never both get the row.
"""

import os
import socket
import uuid
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from connectors.core.app_settings import app_settings


def new_holder():
    """An id unique to one claim attempt (host and process for the operator reading the row)."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def lifetime():
    """Longer than one renewal can take: one token request (connecting and each read are bounded
    by HTTP_TIMEOUT) and the short writes around it."""
    return timedelta(seconds=3 * app_settings.HTTP_TIMEOUT + 10)


def take(queryset, holder, *, by_field, until_field, now=None):
    """Claim the single row of `queryset` for `holder`; True when it is now ours."""
    now = now or timezone.now()
    free = Q(**{f"{until_field}__isnull": True}) | Q(**{f"{until_field}__lt": now})
    return queryset.filter(free).update(**{by_field: holder, until_field: now + lifetime()}) == 1


def release(queryset, holder, *, by_field, until_field):
    """Give the claim back, if it is still ours (an expired claim may have been taken over)."""
    queryset.filter(**{by_field: holder}).update(**{by_field: "", until_field: None})
