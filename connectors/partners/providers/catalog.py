"""Provider templates as data: well-known authorization servers the generic OpenID Connect /
OAuth 2.0 provider can be pointed at by filling one or two fields.

One TOML file per provider in `catalog/` (its name is the template's key), validated by the
schema below when the app starts (AppConfig.ready), so that a broken file stops the start with
the file, the field and what is wrong instead of failing later at a partner. A template never
needs code: everything it may say is a field of this schema, and the generic provider applies
it (connectors/partners/providers/generic.py). docs/providers.md explains each field.
"""

import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated

from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, ValidationError, model_validator

CATALOG_DIR = Path(__file__).with_name("catalog")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
# A template's key is its file's name: lower-case letters, digits and "-".
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class Words(BaseModel):
    """A sentence in each language the app speaks (a template is data, not a gettext catalog)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: Text
    de: Text

    def __str__(self) -> str:
        language = (translation.get_language() or "en").split("-")[0]
        return str(getattr(self, language, self.en))


class Parameter(BaseModel):
    """A value the operator enters, put into the template's URLs and parameters as {name}."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    label: Words
    help: Words
    # The whole value must match (it becomes part of a URL): e.g. one DNS name, a GUID.
    pattern: Text
    example: Text
    # Blank when optional and not given: a parameter naming it is then left out.
    required: bool = True
    default: str = ""

    @model_validator(mode="after")
    def _pattern_fits(self) -> "Parameter":
        try:
            compiled = re.compile(self.pattern)
        except re.error as error:
            raise ValueError(f"pattern is not a regular expression: {error}") from None
        for value in filter(None, (self.example, self.default)):
            if not compiled.fullmatch(value):
                raise ValueError(f"{value!r} does not match the parameter's own pattern")
        return self


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: Key
    name: Text
    # The public documentation pages the facts below come from.
    documentation: Annotated[tuple[HttpUrl, ...], Field(min_length=1)]
    # The issuer identifier, exactly as the provider's metadata names it ({parameter} inserted).
    issuer: Annotated[str, StringConstraints(pattern=r"^https://[^\s?#]+$")]
    scope: Annotated[str, StringConstraints(pattern=r"^[!#-\[\]-~]+( [!#-\[\]-~]+)*$")]
    parameters: Annotated[tuple[Parameter, ...], Field(max_length=3)] = ()
    # Extra parameters of the authorization request (Google's access_type=offline and
    # prompt=consent for a refresh token, Auth0's audience) and of every token request.
    authorize_parameters: Mapping[Name, str] = Field(default_factory=dict)
    token_parameters: Mapping[Name, str] = Field(default_factory=dict)
    # RFC 7009: whether revoking one refresh token leaves the rest of the grant alive (False:
    # it ends the client's whole grant for the user, so Regenerate must not revoke).
    revokes_single_tokens: bool
    # Non-secret fields of the token answer the probe URL needs (Salesforce's instance_url).
    token_answer_fields: tuple[Name, ...] = ()
    # The test request ({parameter} and {token answer field} inserted); blank: the userinfo
    # endpoint of the metadata.
    probe_url: Annotated[str, StringConstraints(pattern=r"^((\{[a-z_]+\}|https://)[^\s#]*)?$")] = ""
    # What a generic client must know about this provider, shown on the form.
    quirks: Words

    @model_validator(mode="after")
    def _placeholders_are_declared(self) -> "Template":
        names = [parameter.name for parameter in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError("two parameters have the same name")
        used = set(PLACEHOLDER.findall(self.issuer))
        for value in (*self.authorize_parameters.values(), *self.token_parameters.values()):
            used |= set(PLACEHOLDER.findall(value))
        unknown = used - set(names)
        unknown |= set(PLACEHOLDER.findall(self.probe_url)) - set(names) - set(self.token_answer_fields)
        if unknown:
            raise ValueError(f"placeholders without a parameter: {', '.join(sorted(unknown))}")
        for parameter in self.parameters:
            if parameter.required and f"{{{parameter.name}}}" not in self.issuer + self.probe_url:
                raise ValueError(f"the required parameter {parameter.name} is used in no URL")
        return self

    # -- applying it --------------------------------------------------------------------------

    def errors_for(self, values: Mapping[str, str]) -> dict[str, str]:
        """{parameter name: sentence} for values the template cannot use ({} when all fit)."""
        from django.utils.translation import gettext as _

        errors = {}
        for parameter in self.parameters:
            value = _text(values.get(parameter.name))
            if value == "":
                if parameter.required and not parameter.default:
                    errors[parameter.name] = _("%(template)s needs the %(field)s.") % {
                        "template": self.name,
                        "field": str(parameter.label),
                    }
            elif value is None or not re.fullmatch(parameter.pattern, value):  # None: an import's non-text
                errors[parameter.name] = _("Enter the %(field)s as %(template)s shows it, e.g. %(example)s.") % {
                    "field": str(parameter.label),
                    "template": self.name,
                    "example": parameter.example,
                }
        return errors

    def values_with_defaults(self, values: Mapping[str, str]) -> dict[str, str]:
        return {parameter.name: _text(values.get(parameter.name)) or parameter.default for parameter in self.parameters}

    def render(self, text: str, values: Mapping[str, str]) -> str:
        return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), "")), text)

    def issuer_for(self, values: Mapping[str, str]) -> str:
        return self.render(self.issuer, self.values_with_defaults(values))

    def parameters_for(self, parameters: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
        """Request parameters with the values inserted; one naming a blank value is left out."""
        filled = self.values_with_defaults(values)
        return {
            name: self.render(value, filled)
            for name, value in parameters.items()
            if all(filled.get(placeholder) for placeholder in PLACEHOLDER.findall(value))
        }


def _text(value):
    """An entered value, trimmed ("" when absent, None when it is no text at all)."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else None


class CatalogError(ImproperlyConfigured):
    """A template file the schema refuses: the message names the file and the field."""


def load(directory: Path = CATALOG_DIR) -> dict[str, Template]:
    """Every template in `directory`, by key; raises CatalogError for the first bad file."""
    templates = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            templates[path.stem] = Template(key=path.stem, **data)
        except tomllib.TOMLDecodeError as error:
            raise CatalogError(f"Provider template {path.name}: not valid TOML: {error}") from None
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or 'file'}: {problem['msg']}"
                for problem in error.errors()
            )
            raise CatalogError(f"Provider template {path.name}: {problems}") from None
    return templates


@cache
def templates() -> dict[str, Template]:
    return load()


def get(key: str) -> Template | None:
    return templates().get(key) if key else None


def choices() -> list[tuple[str, str]]:
    """(key, name) of every template, by name, after the choice of none (fully generic)."""
    from django.utils.translation import gettext as _

    listed = sorted(templates().values(), key=lambda template: template.name.lower())
    return [("", _("None: any provider, fully generic")), *((t.key, t.name) for t in listed)]


def parameters() -> dict[str, list[tuple[Template, Parameter]]]:
    """Each parameter name any template uses, with the templates using it (the form's fields)."""
    found: dict[str, list[tuple[Template, Parameter]]] = {}
    for template in templates().values():
        for parameter in template.parameters:
            found.setdefault(parameter.name, []).append((template, parameter))
    return found
