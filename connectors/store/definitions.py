"""Connection definitions as portable data: a versioned JSON document of what an operator typed
(provider, name, URLs, client ID, scope, …) without any secret or token, to promote a tested setup
from one environment to another; and "Duplicate", which copies a connection without its secrets.

Import is two steps: plan() compares the document with what is stored (create, update or unchanged
per connection, with the changed fields, validated by the models' own rules through full_clean),
and apply() saves a plan that has no errors, all or nothing.
"""

import json
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from connectors.core import sentences, validators
from connectors.core.sentences import Sentence
from connectors.models import Connection, secret_fields
from connectors.partners.providers import PROVIDERS
from connectors.store import events, policy

# The details the events of imports and copies keep (connectors/core/sentences.py).
sentences.register(
    {
        "imported": gettext_lazy("imported"),
        "imported_fields": gettext_lazy("imported: %(fields)s"),
        "duplicated_from": gettext_lazy("duplicated from “%(name)s”"),
    }
)

FORMAT = "partner-connections/definitions"
VERSION = 1
COPY_SUFFIX = " (copy)"


class DocumentError(Exception):
    """The document as a whole cannot be read (not JSON, another format or version)."""


# The largest definitions document read (the Import page's upload and import_connections alike):
# an export of thousands of connections is far smaller.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
# Longest piece of a document's own text quoted back in a sentence (a provider key, a name).
QUOTED_LIMIT = 100


def parse(text):
    """The JSON document in `text` (str or bytes); DocumentError with a sentence when it is too
    large, not JSON or nested too deeply for the parser (every door reads files through this)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise DocumentError(_("The file is larger than 2 MiB: is it a definitions file?"))
    try:
        return json.loads(text)
    except RecursionError:
        raise DocumentError(_("The file nests its values too deeply to be a definitions file.")) from None
    except ValueError:
        raise DocumentError(_("The file is not JSON: choose a definitions file.")) from None


def _quoted(value):
    """A value of the document as it may appear in a sentence: text, cut short."""
    if not isinstance(value, str):
        return "?"
    return value if len(value) <= QUOTED_LIMIT else value[: QUOTED_LIMIT - 1] + "…"


def model_of(provider):
    return apps.get_model("connectors", provider.model_name)


def definition_fields(model):
    """The fields a definition carries: what the operator enters, minus the secrets and the name
    (which identifies the connection)."""
    secrets = set(secret_fields(model))
    return tuple(
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and not f.auto_created and f.name not in secrets and f.name != "name"
    )


# -- export -----------------------------------------------------------------------------------------


def definition_of(connection):
    connection = connection.specific
    model = type(connection)
    return {
        "provider": connection.provider,
        "name": connection.name,
        "fields": {name: getattr(connection, name) for name in definition_fields(model)},
        # Which secrets the source has, by field name only, so an import can say what to enter.
        "secrets_to_enter": [name for name in secret_fields(model) if getattr(connection, name)],
    }


def document_head():
    """What a document says before its connections (a command streams them after it)."""
    return {"format": FORMAT, "version": VERSION, "exported_at": timezone.now().isoformat(timespec="seconds")}


def export_document(connections):
    """The JSON-ready document for `connections` (any iterable of Connection)."""
    return {**document_head(), "connections": [definition_of(connection) for connection in connections]}


# -- import -----------------------------------------------------------------------------------------


@dataclass
class Item:
    """One connection of a document, compared with what is stored."""

    provider: str
    name: str
    action: str = ""  # "create", "update", "unchanged" or "invalid"
    changes: list = field(default_factory=list)  # [(field label, old, new)]
    errors: list = field(default_factory=list)  # ["Field: message"]
    secrets_to_enter: list = field(default_factory=list)  # field labels
    instance: Connection | None = None
    clears_secrets: bool = False

    @property
    def label(self):
        provider = PROVIDERS.get(self.provider)
        return f"{provider.short_name if provider else self.provider} · {_quoted(self.name)}"


@dataclass
class Plan:
    items: list

    @property
    def valid(self):
        return all(item.action != "invalid" for item in self.items)

    def count(self, action):
        return sum(item.action == action for item in self.items)


def read_document(document):
    """Check the document's envelope; returns its connection entries."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DocumentError(
            _("This is not a connection definitions document (format “%(format)s”).") % {"format": FORMAT}
        )
    found = document.get("version")
    if found != VERSION or isinstance(found, bool):
        raise DocumentError(
            _("This document has version %(found)r; this version of the app reads version %(version)d.")
            % {"found": found if isinstance(found, int) else _quoted(found), "version": VERSION}
        )
    entries = document.get("connections")
    if not isinstance(entries, list):
        raise DocumentError(_("The document has no list of connections."))
    return entries


def plan(document):
    """Compare every entry with the stored connections; nothing is saved."""
    try:
        return _plan(document)
    except RecursionError:
        # A parsed document is as deep as its parser allowed; one built in code may be deeper.
        raise DocumentError(_("The file nests its values too deeply to be a definitions file.")) from None


def _plan(document):
    items, seen = [], set()
    for position, entry in enumerate(read_document(document), start=1):
        item = _plan_entry(entry, position)
        identity = (item.provider, item.name.casefold())
        if identity in seen and item.action != "invalid":
            item.action, item.errors = "invalid", [_("Name: the document names this connection twice.")]
        seen.add(identity)
        items.append(item)
    return Plan(items)


def _plan_entry(entry, position):
    if not isinstance(entry, dict):
        return Item("?", f"#{position}", "invalid", errors=[_("Entry %(n)d is not an object.") % {"n": position}])
    key = entry.get("provider")
    # Any JSON value may stand here: only text names a provider (a list cannot even be looked up).
    provider = PROVIDERS.get(key) if isinstance(key, str) else None
    name = entry.get("name")
    item = Item(_quoted(key), name if isinstance(name, str) else f"#{position}")
    if provider is None:
        item.action = "invalid"
        item.errors.append(
            _("Provider: “%(key)s” is not one of %(keys)s.") % {"key": item.provider, "keys": ", ".join(PROVIDERS)}
        )
        return item
    if not isinstance(name, str) or not name.strip():
        item.action = "invalid"
        item.errors.append(_("Name: enter the connection's name."))
        return item
    try:
        # Before the name reaches a query: PostgreSQL refuses a NUL character in one.
        validators.reject_control_characters(name)
    except ValidationError as error:
        item.action = "invalid"
        item.errors += [f"{_label(model_of(provider), 'name')}: {message}" for message in error.messages]
        return item
    model = model_of(provider)
    allowed = definition_fields(model)
    values = entry.get("fields", {})
    if not isinstance(values, dict):
        values = {}
        item.errors.append(_("Fields: expected an object of field names and values."))
    for unknown in sorted(set(values) - set(allowed)):
        item.errors.append(
            _("%(field)s: not a field of a %(provider)s connection.") % {"field": unknown, "provider": provider.label}
        )
    stored = model.objects.filter(name__iexact=name.strip()).first()
    instance = stored or model(provider=provider.key)
    before = {f: getattr(instance, f) for f in ("name", *allowed)} if stored else {}
    instance.name = name.strip()
    for name_ in allowed:
        if name_ in values:
            value = values[name_]
            expected = _expected_type(model, name_)
            if not isinstance(value, expected):
                item.errors.append(EXPECTED[expected]() % {"field": _label(model, name_)})
                continue
            setattr(instance, name_, value)
    try:
        instance.full_clean()
    except ValidationError as error:
        for field_name, messages in error.message_dict.items():
            item.errors += [f"{_label(model, field_name)}: {message}" for message in messages]
    item.instance = instance
    wanted = entry.get("secrets_to_enter", [])
    wanted = wanted if isinstance(wanted, list) else []
    if stored:
        item.changes = [
            (_label(model, f), before[f], getattr(instance, f)) for f in before if before[f] != getattr(instance, f)
        ]
        item.action = "update" if item.changes else "unchanged"
        # Stored secrets and tokens never follow a URL an import moves to another origin (the
        # change policy, as on the form; the model's save would drop them anyway).
        item.clears_secrets = bool(
            policy.moved_fields(provider, before, policy.values_of(instance, provider.url_fields))
        )
    else:
        item.action = "create"
    # The secrets the source has (or this connection had, before a host change) and this one
    # will not: the operator enters them after the import.
    item.secrets_to_enter = [
        _label(model, n)
        for n in secret_fields(model)
        if (n in wanted or (item.clears_secrets and getattr(instance, n)))
        and (item.clears_secrets or not getattr(instance, n))
    ]
    if item.errors:
        item.action = "invalid"
    return item


EXPECTED = {
    str: lambda: _("%(field)s: expected text."),
    bool: lambda: _("%(field)s: expected true or false."),
    dict: lambda: _("%(field)s: expected an object of names and values."),
}


def _expected_type(model, field_name):
    """What an exported value of the field is: text, but a yes/no for a checkbox and an object for
    a JSON field (the generic provider's revocation choice and template values)."""
    field = model._meta.get_field(field_name)
    if isinstance(field, models.BooleanField):
        return bool
    if isinstance(field, models.JSONField):
        return dict
    return str


def _label(model, field_name):
    if field_name == NON_FIELD_ERRORS:
        return _("Settings")
    try:
        return capfirst(str(model._meta.get_field(field_name).verbose_name))
    except FieldDoesNotExist:
        return field_name


def apply(import_plan, user=None):
    """Save every create and update of a plan without errors, in one transaction."""
    if not import_plan.valid:
        raise ValueError("A plan with errors is not applied.")
    with transaction.atomic():
        for item in import_plan.items:
            if item.action not in ("create", "update"):
                continue
            instance = item.instance
            if item.clears_secrets:
                for name in secret_fields(type(instance)):
                    setattr(instance, name, "")
                instance.clear_tokens(reason=gettext_noop("A URL was changed by an import: generate a new token."))
            instance.changed_by = user  # the revocation of dropped tokens is recorded as theirs
            instance.save()
            detail = (
                Sentence("imported")
                if item.action == "create"
                else Sentence("imported_fields", fields=[sentences.Label(label) for label, _old, _new in item.changes])
            )
            events.record(instance, "created" if item.action == "create" else "changed", user, detail=detail)


# -- duplicate --------------------------------------------------------------------------------------


def duplicate(connection, user=None):
    """A copy of the connection's definition under a free name “… (copy)”, without secrets or
    tokens; returns the saved copy."""
    source = connection.specific
    model = type(source)
    copy = model(provider=source.provider, **{name: getattr(source, name) for name in definition_fields(model)})
    copy.name = _free_copy_name(model, source.name)
    copy.full_clean()
    copy.save()
    events.record(copy, "created", user, detail=Sentence("duplicated_from", name=source.name))
    return copy


def _free_copy_name(model, name):
    limit = model._meta.get_field("name").max_length
    for number in range(1, 1000):
        suffix = COPY_SUFFIX if number == 1 else f" (copy {number})"
        candidate = name[: limit - len(suffix)] + suffix
        if not model.objects.filter(name__iexact=candidate).exists():
            return candidate
    raise ValidationError({"name": _("No free name for a copy of “%(name)s”.") % {"name": name}})
