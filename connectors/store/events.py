"""The per-connection event log. Details are built by our code from field labels and outcome
sentences; callers never pass request data or secrets here.

A detail given as a Sentence (connectors/core/sentences.py) is stored as its code and parameters and
shown in the reader's language; its English text is kept in `detail` too, for the log and for
anything that reads the column directly.
"""

import logging

from django.utils import translation
from django.utils.translation import gettext_lazy

from connectors.core.sentences import Label, Sentence, register
from connectors.models import Event

logger = logging.getLogger("connectors.store.events")


register(
    {
        # Translators: the labels of the fields an operator changed, comma-separated.
        "changed_fields": gettext_lazy("%(fields)s"),
    }
)


def changed_fields(labels):
    """The detail of a "changed" event: the changed fields' labels, in the reader's language."""
    return Sentence("changed_fields", fields=[Label(label) for label in labels])


def record(connection, action, user=None, succeeded=True, detail=""):
    user = user if getattr(user, "is_authenticated", False) else None
    code, params = "", {}
    if isinstance(detail, Sentence):
        stored = detail.to_json()
        code, params = stored["code"], stored["params"]
    with translation.override("en"):
        text = str(detail)
    event = Event.objects.create(
        connection_id=connection.pk,
        action=action,
        user=user,
        succeeded=succeeded,
        detail=text[:500],
        code=code,
        params=params,
    )
    logger.info(
        "connection %s %s %s%s",
        connection.pk,
        action,
        "ok" if succeeded else "failed",
        f": {text}" if text else "",
    )
    return event
