"""The per-connection event log. Details are built by our code from field labels and outcome
sentences; callers never pass request data or secrets here."""

import logging

from .models import Event

logger = logging.getLogger("connectors.events")


def record(connection, action, user=None, succeeded=True, detail=""):
    user = user if getattr(user, "is_authenticated", False) else None
    event = Event.objects.create(
        connection_id=connection.pk, action=action, user=user, succeeded=succeeded, detail=detail[:500]
    )
    logger.info(
        "connection %s %s %s%s",
        connection.pk,
        action,
        "ok" if succeeded else "failed",
        f": {detail}" if detail else "",
    )
    return event
