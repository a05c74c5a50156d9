"""Sentences stored as a code and parameters, rendered in the reader's language when read.

Events, failures and test results keep `{"code": ..., "params": {...}}` instead of an English
text, so a German reader sees a German sentence for something that happened under an English
request. Each module that owns sentences registers them once under stable codes with
`register()`; the texts are gettext_lazy / ngettext_lazy strings, so makemessages finds them.

A parameter may itself be a sentence (a `Sentence` or its stored form), a `Label` (a field label
or other fixed word translated at read time) or a list of those, joined with commas. Parameters
are built by our code from host names, field names, HTTP statuses and OAuth error codes: never a
secret.
"""

from typing import Any

from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext

_CATALOG: dict[str, Any] = {}


def register(sentences):
    """Add {code: lazy text} to the catalog; a code names one sentence only."""
    for code, text in sentences.items():
        if code in _CATALOG and _CATALOG[code] is not text:
            raise ValueError(f"sentence code {code!r} is registered twice")
        _CATALOG[code] = text
    return sentences


def known(code):
    return code in _CATALOG


class Label(Promise):
    """A fixed word (a field label, a grant name) translated when read; stored as its msgid."""

    def __init__(self, msgid, strip=""):
        # A gettext_lazy label keeps its msgid as its first argument (capfirst() wraps it once
        # more): store that, not the text of today's language.
        shown = str(msgid)
        while isinstance(msgid, Promise) and getattr(msgid, "_args", None):
            msgid = msgid._args[0]
        self.msgid = str(msgid)
        self.strip = strip  # characters cut from the end (a reason's period, before a colon)
        # A form label is the model's verbose name with its first letter capitalized.
        self.capfirst = shown[:1].isupper() and not self.msgid[:1].isupper()

    def __str__(self):
        return _label(self.msgid, self.strip, self.capfirst)

    def to_json(self):
        stored = {"label": self.msgid}
        if self.strip:
            stored["strip"] = self.strip
        if self.capfirst:
            stored["capfirst"] = True
        return stored


def _label(msgid, strip="", capitalize=False):
    text = gettext(msgid)
    text = text.rstrip(strip) if strip else text
    return capfirst(text) if capitalize else text


class Sentence(Promise):
    """One sentence: a registered code and its parameters. str() renders it in the active language.
    A Promise, like gettext_lazy's strings: Django's JSON encoder, messages and templates render it."""

    def __init__(self, code, /, **params):
        # Positional-only: a sentence may have a parameter named `code` (an OAuth error code).
        if code not in _CATALOG:
            raise KeyError(f"unknown sentence code {code!r}")
        self.code = code
        self.params = params

    def __str__(self):
        return render(self.code, self.params)

    def __repr__(self):
        return f"Sentence({self.code!r}, {self.params!r})"

    def __eq__(self, other):
        return str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    # Enough of str's manners for the places that treat a message as text.
    def __add__(self, other):
        return str(self) + str(other)

    def __radd__(self, other):
        return str(other) + str(self)

    def __getitem__(self, index):
        return str(self)[index]

    def __len__(self):
        return len(str(self))

    def __contains__(self, part):
        return part in str(self)

    def rstrip(self, chars=None):
        return str(self).rstrip(chars)

    def to_json(self):
        return {"code": self.code, "params": {name: _stored(value) for name, value in self.params.items()}}


def _stored(value):
    if isinstance(value, (Sentence, Label)):
        return value.to_json()
    if isinstance(value, Promise):
        return Label(value).to_json()
    if isinstance(value, (list, tuple)):
        return [_stored(item) for item in value]
    return value


def _shown(value):
    if isinstance(value, dict) and "code" in value:
        return render(value["code"], value.get("params") or {})
    if isinstance(value, dict) and "label" in value:
        return _label(value["label"], value.get("strip", ""), value.get("capfirst", False))
    if isinstance(value, (Sentence, Label, Promise)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(item) for item in value)
    return value


def render(code, params=None):
    """The sentence for `code` in the active language; an unknown code (a sentence removed since
    it was stored) shows the code itself rather than failing the page."""
    text = _CATALOG.get(code)
    if text is None:
        return str(code)
    shown = {name: _shown(value) for name, value in (params or {}).items()}
    try:
        return str(text % shown)
    except (KeyError, TypeError, ValueError):
        return str(text)


def stored(message):
    """What to keep in a JSON field for a message: a sentence's code and parameters, or None for
    plain text (kept in the text column instead)."""
    return message.to_json() if isinstance(message, Sentence) else None


def sentence_from(stored_form, fallback=""):
    """The text to show for a stored {"code", "params"} (or the old plain text when there is none)."""
    if isinstance(stored_form, dict) and stored_form.get("code"):
        return render(stored_form["code"], stored_form.get("params") or {})
    return fallback
