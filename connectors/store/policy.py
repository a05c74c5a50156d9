"""The change policy: what a save of a connection may do and where its credentials may go,
whichever door the change came through (the admin form, an import of definitions, a management
command, the API, the worker or the shell). The doors ask this module before they act, and the
model's save() applies it last, so a door that forgets to ask still cannot break it.

The rules (docs/policy.md):
- A place is an origin: scheme, host and effective port. Two URLs on one host but another port
  are two places.
- A URL moved to another origin drops the stored tokens (they belong to the server that issued
  them; the dropped refresh token is revoked there, see `origins_moved`) and every stored secret
  that was not entered again: a stored secret never follows a URL to a place nobody vetted it for.
- A token goes only to its connection's own origins: its API base and its test request.
- Who may do what is the permission of the provider's model: view (also export, and see what an
  import would change), add (also duplicate, and import a new connection), change (also test,
  and import a change).
"""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from encrypted_model_fields.fields import EncryptedMixin

from connectors.core import token_state, validators
from connectors.partners.providers import PROVIDERS

if TYPE_CHECKING:
    from connectors.models import Connection
    from connectors.partners.providers.base import Provider

# Why a connection has no token after a move (an English msgid, shown translated).
MOVED_REASON = gettext_noop("A URL was changed: generate a new token.")

# Sent after a save that moved a URL to another origin, with `stored` (an unsaved copy of the
# connection as it was before, tokens included) and `user` (who changed it, when a door said so).
# The engine's revocation listens (connected in AppConfig.ready()): the store never calls a
# partner itself.
origins_moved = Signal()


# -- origins ------------------------------------------------------------------------------------


def moved_fields(provider: "Provider", before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """The URL fields in `after` whose origin (scheme, host, effective port) is not `before`'s.
    A blank URL that gets a value moves too: nothing was ever sent to the new place."""
    return tuple(
        name
        for name in provider.url_fields
        if name in after and validators.origin_of(before.get(name) or "") != validators.origin_of(after.get(name) or "")
    )


def values_of(connection: "Connection", names: Iterable[str]) -> dict[str, Any]:
    """{name: value} of the fields `connection`'s model has (a base Connection lacks the
    provider's own URL fields)."""
    own = {field.name for field in connection._meta.concrete_fields}
    return {name: getattr(connection, name) for name in names if name in own}


def moved_from(stored: "Connection", connection: "Connection") -> tuple[str, ...]:
    provider = connection.provider_info
    fields = provider.url_fields
    return moved_fields(provider, values_of(stored, fields), values_of(connection, fields))


def token_origins(connection: "Connection") -> set[tuple[str, str, int | None]]:
    """Where the connection's access token may go: the origins of its API base and of its test
    request, nothing else (not another allowed host, not another port of its own host)."""
    provider = connection.provider_info
    urls = [getattr(connection, name, "") for name in provider.resource_url_fields]
    try:
        urls.append(provider.probe_url(connection))
    except (AttributeError, TypeError, ValueError):
        pass  # a connection without the fields its probe is built from has no probe origin
    return {origin for origin in map(validators.origin_of, urls) if origin is not None}


def may_carry_token(connection: "Connection", url: str) -> bool:
    origin = validators.origin_of(url)
    return origin is not None and origin in token_origins(connection)


# -- secrets ------------------------------------------------------------------------------------


def secret_names(connection: "Connection") -> tuple[str, ...]:
    return tuple(f.name for f in connection._meta.fields if isinstance(f, EncryptedMixin) and f.editable)


def entered_again(connection: "Connection") -> set[str]:
    """The secrets a door says were typed again for this save (`connection.secrets_entered`),
    even when the typed value equals the stored one."""
    return set(getattr(connection, "secrets_entered", ()) or ())


def enter_again_message(label: Any) -> str:
    """What a door says of a stored secret that a move would send to a new place."""
    return _(
        "A URL now points at another host or port: enter “%(field)s” again (stored secrets are not sent to a new place)."
    ) % {"field": label}


def kept_secrets(stored: "Connection", connection: "Connection") -> list[str]:
    """The stored secrets the connection still carries unchanged and nobody entered again."""
    again = entered_again(connection)
    return [
        name
        for name in secret_names(connection)
        if getattr(stored, name, "") and getattr(connection, name) == getattr(stored, name) and name not in again
    ]


# -- the save ------------------------------------------------------------------------------------


def stored_row(connection: "Connection") -> "Connection | None":
    if connection._state.adding or connection.pk is None:
        return None
    stored = type(connection)._default_manager.filter(pk=connection.pk).first()
    if stored is not None and getattr(type(connection), "PROVIDER_KEY", None) is None:
        # A base Connection edited as such: the stored one as its provider's model, whose URL
        # fields and revocation endpoint the after-save revocation needs.
        stored = stored.specific
    return stored


def before_save(connection: "Connection", update_fields: Iterable[str] | None = None) -> "Connection | None":
    """Apply the policy to a connection about to be saved; returns the stored row when a URL
    moved to another origin (for `after_save`), else None.

    A move drops the tokens and every stored secret not entered again. A save limited to fields
    that hold no URL (the token state, the renewal facts) costs nothing here."""
    if connection.provider not in PROVIDERS:
        return None  # an unknown provider is refused by the rules, not here
    url_fields = set(connection.provider_info.url_fields)
    if update_fields is not None and not url_fields & set(update_fields):
        return None
    if connection._state.adding or connection.pk is None:
        return None
    # The stored URLs first (no secret decrypted): most saves move nothing.
    own = values_of(connection, url_fields)
    before = type(connection)._default_manager.filter(pk=connection.pk).values(*own).first()
    if before is None or not moved_fields(connection.provider_info, before, own):
        return None
    stored = stored_row(connection)
    if stored is None or not moved_from(stored, connection):
        return None
    for name in kept_secrets(stored, connection):
        setattr(connection, name, "")
    token_state.clear(connection, MOVED_REASON)
    return stored


def fields_a_move_clears(connection: "Connection") -> tuple[str, ...]:
    """What before_save() may change, for a save limited to some fields (update_fields)."""
    return (*token_state.TOKEN_FIELDS, *secret_names(connection))


def after_save(connection: "Connection", stored: "Connection | None") -> None:
    # A declaration of secrets typed again is for one save: a later move of the same object asks
    # again.
    connection.__dict__.pop("secrets_entered", None)
    if stored is not None:
        origins_moved.send(sender=type(connection), stored=stored, user=getattr(connection, "changed_by", None))


# -- permissions ---------------------------------------------------------------------------------

# What each action needs of the provider's model: any one of these permissions.
PERMISSIONS = {
    "view": ("view", "change"),
    "export": ("view", "change"),
    "dry_run": ("view", "change"),
    "duplicate": ("add",),
    "create": ("add",),
    "update": ("change",),
    "test": ("change",),
}


def may(user: Any, action: str, connection_or_model: Any) -> bool:
    """Whether `user` may do `action` (a key of PERMISSIONS) to a connection of that provider."""
    model = connection_or_model
    if not isinstance(model, type):
        model = type(getattr(connection_or_model, "specific", connection_or_model))
    opts = model._meta
    return any(user.has_perm(f"{opts.app_label}.{permission}_{opts.model_name}") for permission in PERMISSIONS[action])
