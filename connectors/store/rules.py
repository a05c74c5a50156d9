"""The rules a connection's values must follow, applied by the model (`full_clean()`), so that
the admin form, commands, imports and the API all refuse the same input with the same sentence.

Three layers, in this order:
- every text field: no control or format characters (a line break in a header is an injection);
- the provider's own field rules (Provider.field_rules: a DNS label, a realm name, ...) plus the
  rules every provider shares (the scope syntax of RFC 6749 §3.3);
- the outbound URL policy for the provider's URL fields (https, its allowed hosts, no userinfo,
  query or odd port; connectors/core/validators.py).

A provider's rules are its own: a field named `tenant` at a new provider inherits nothing from
Inverbis' `tenant`.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from connectors.core import validators
from connectors.core.app_settings import app_settings
from connectors.partners.providers.base import Provider

if TYPE_CHECKING:
    from connectors.models import Connection

Check = Callable[[str], Any]

# Rules of the fields every connection has, whatever its provider.
COMMON_RULES: Mapping[str, tuple[Check, ...]] = {"scope": (validators.normalize_scope,)}


def rules_for(provider: Provider) -> dict[str, tuple[Check, ...]]:
    return {**COMMON_RULES, **provider.field_rules}


def clean_value(provider: Provider, name: str, value: str) -> str:
    """The value after the provider's rules for `name` (normalized); raises ValidationError."""
    for check in rules_for(provider).get(name, ()):
        result = check(value)
        if isinstance(result, str):
            value = result
    return value


def text_fields(connection: "Connection") -> list[str]:
    """Names of the editable text fields (secrets included) of the connection's model."""
    return [
        field.name
        for field in connection._meta.fields
        if field.editable and isinstance(getattr(connection, field.attname, None), str)
    ]


def normalize(connection: "Connection", secrets: Iterable[str]) -> None:
    """Trim surrounding spaces of what operators type (never of a secret)."""
    secrets = set(secrets)
    for name in text_fields(connection):
        if name not in secrets:
            setattr(connection, name, getattr(connection, name).strip(" "))


def field_errors(connection: "Connection", exclude: Iterable[str] = ()) -> dict[str, list[ValidationError]]:
    """Check (and normalize) the connection's values; returns {field: [errors]} ({} when fine).

    Fields in `exclude` are neither checked nor changed (a ModelForm excludes those it has
    already refused, and those it does not show)."""
    provider = connection.provider_info
    exclude = set(exclude)
    errors: dict[str, list[ValidationError]] = {}

    for name in text_fields(connection):
        value = getattr(connection, name)
        if name in exclude or not value:
            continue
        try:
            validators.reject_control_characters(value)
        except ValidationError as error:
            errors[name] = [error]

    for name in rules_for(provider):
        value = getattr(connection, name, None)
        if name in exclude or name in errors or not value:
            continue
        try:
            setattr(connection, name, clean_value(provider, name, value))
        except ValidationError as error:
            errors[name] = [error]

    allowed_grants = provider.grant_choices or (provider.grant,)
    if "grant" not in exclude and connection.grant and connection.grant not in allowed_grants:
        errors["grant"] = [
            ValidationError(
                _("Choose one of the grants this provider offers: %(grants)s.") % {"grants": ", ".join(allowed_grants)},
                code="grant",
            )
        ]
    for name, sentence in provider.extra_errors(connection).items():
        if name not in exclude and name not in errors:
            errors[name] = [ValidationError(sentence, code="provider_requires")]

    derived = provider.derive_urls({name: getattr(connection, name, "") for name in provider.connection_fields})
    extra_hosts = app_settings.EXTRA_ALLOWED_HOSTS
    for name in provider.url_fields:
        if name in exclude or name in errors:
            continue
        value = getattr(connection, name, "")
        sources_refused = any(source in errors for source in provider.connection_fields)
        if sources_refused and (not value or value == derived.get(name)):
            # Derived from a field just refused: that field's message comes first, and a URL
            # built from it would only repeat it. A URL typed by hand is still checked.
            continue
        if not value and name in provider.derived_url_fields and derived.get(name):
            value = derived[name]
            setattr(connection, name, value)
        if not value:
            if name in provider.derived_url_fields:
                errors[name] = [
                    ValidationError(_("Enter the URL, or fill in the fields it is derived from."), code="url_required")
                ]
            continue
        try:
            validators.validate_outbound_url(value, provider.allowed_hosts, extra_hosts)
        except ValidationError as error:
            errors[name] = [error]
    return errors


def provider_errors(connection: "Connection") -> dict[str, list[ValidationError]]:
    """The provider column names a registered provider: the registry is the list of choices
    (Django skips the choices of a field that is not editable, as this one is not)."""
    from connectors.partners.providers import PROVIDERS

    if connection.provider in PROVIDERS:
        return {}
    message = _("Unknown provider “%(provider)s”: use one of %(known)s.") % {
        "provider": connection.provider,
        "known": ", ".join(PROVIDERS),
    }
    return {"provider": [ValidationError(message, code="provider")]}
