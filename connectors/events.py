"""The per-connection event log. Details are built by our code from field labels and outcome
sentences; callers never pass request data or secrets here.

A detail given as a Sentence (connectors/sentences.py) is stored as its code and parameters and
shown in the reader's language; its English text is kept in `detail` too, for the log and for
anything that reads the column directly.
"""

import logging

from django.utils import translation
from django.utils.translation import gettext_lazy

from .models import Event
from .sentences import Label, Sentence, register

logger = logging.getLogger("connectors.events")

# The actions as a person reads them in the Events table; the stored action stays the code.
ACTION_LABELS = {
    "created": gettext_lazy("created"),
    "changed": gettext_lazy("changed"),
    "authorize started": gettext_lazy("authorize started"),
    "authorized": gettext_lazy("authorized"),
    "authorize failed": gettext_lazy("authorize failed"),
    "scope not granted": gettext_lazy("scope not granted"),
    "tested": gettext_lazy("tested"),
    "test failed": gettext_lazy("test failed"),
    "tested unsaved": gettext_lazy("tested unsaved"),
    "refreshed": gettext_lazy("refreshed"),
    "refresh failed": gettext_lazy("refresh failed"),
    "token requested": gettext_lazy("token requested"),
    "token request failed": gettext_lazy("token request failed"),
    "token handed out": gettext_lazy("token handed out"),
    "revoked": gettext_lazy("revoked"),
    "revocation failed": gettext_lazy("revocation failed"),
    "revocation skipped": gettext_lazy("revocation skipped"),
    "renewal recovered": gettext_lazy("renewal recovered"),
}


register(
    {
        # Translators: the labels of the fields an operator changed, comma-separated.
        "changed_fields": gettext_lazy("%(fields)s"),
    }
)


def changed_fields(labels):
    """The detail of a "changed" event: the changed fields' labels, in the reader's language."""
    return Sentence("changed_fields", fields=[Label(label) for label in labels])


def action_label(action):
    return str(ACTION_LABELS.get(action, action))


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
