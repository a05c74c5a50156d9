"""OpenID Connect / OAuth 2.0 (any provider): for partners not in the list.

The operator types the issuer (or its metadata document's address), or picks a provider
template of the catalog (connectors/partners/providers/catalog.py) and fills its one or two fields, which
give the issuer and the provider's quirks. Discovery (OpenID Connect Discovery, RFC 8414) fills
the endpoints, which stay visible and editable, and the Issuer URL becomes the exact issuer the
metadata names (RFC 9207 compares it by simple string comparison). The grant and the client
authentication are the operator's choice per connection. It has no hosts of its own: an
administrator allows the partner's host with EXTRA_ALLOWED_HOSTS.
"""

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.core import failures, validators
from connectors.core.app_settings import app_settings
from connectors.partners import discovery
from connectors.partners.providers import catalog
from connectors.partners.providers.base import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD, Provider

# The form's field of each template parameter (not a model field: stored in template_values).
TEMPLATE_FIELD_PREFIX = "template_"


def template_field(parameter_name):
    return f"{TEMPLATE_FIELD_PREFIX}{parameter_name}"


# The model field filled from each metadata name (connectors/partners/discovery.py).
DISCOVERED_FIELDS = {
    "authorization_endpoint": "authorization_url",
    "token_endpoint": "token_url",
    "userinfo_endpoint": "userinfo_url",
    "revocation_endpoint": "revocation_url",
}


# What each grant needs of this form beyond the token endpoint: {grant: {field: sentence}}.
FIELDS_EACH_GRANT_NEEDS = {
    AUTHORIZATION_CODE: {
        "authorization_url": gettext_lazy(
            "The authorization code grant needs the authorization endpoint: enter it, or an Issuer URL "
            "whose discovery document names it."
        )
    },
    PASSWORD: {"username": gettext_lazy("The password grant needs the username of the account it acts as.")},
}


class _JoinedWords:
    """Several templates' help sentences for one input, each in the reader's language."""

    def __init__(self, words):
        self.words = words

    def __str__(self):
        return " ".join(str(words) for words in self.words)


def grant_choices():
    return [
        (AUTHORIZATION_CODE, _("Authorization code with PKCE (a person logs in once)")),
        (CLIENT_CREDENTIALS, _("Client credentials (the client's own ID and secret)")),
        (PASSWORD, _("Resource owner password (a stored username and password)")),
    ]


def client_authentication_choices():
    """RFC 8414's token_endpoint_auth_method values."""
    return [
        ("client_secret_basic", _("client_secret_basic: ID and secret as HTTP Basic")),
        ("client_secret_post", _("client_secret_post: ID and secret in the request body")),
        ("none", _("none: a public client, the ID alone (with PKCE)")),
    ]


def validate_client_authentication(value):
    if value not in (method for method, _label in client_authentication_choices()):
        raise ValidationError(
            _("Choose client_secret_basic, client_secret_post or none (the partner's supported methods)."),
            code="client_authentication",
        )


class Generic(Provider):
    def client_authentication_of(self, connection):
        return getattr(connection, "client_authentication", "") or self.client_authentication

    def discover(self, values):
        """The template's values (issuer, scope, revocation) when one is chosen, then the issuer's
        metadata: blank endpoints from it, and the Issuer URL as the metadata names it, once the
        document proved to be the issuer's own. Without a document only a blank token endpoint
        is the operator's problem (a server without metadata, its endpoints typed)."""
        filled, errors = self._apply_template(values)
        if errors:
            return filled, errors
        # The submitted values (a QueryDict's last value of each) with the template's.
        values = {**{name: values.get(name) for name in values}, **filled}
        issuer = (values.get("issuer_url") or "").strip()
        blank = [field for field in DISCOVERED_FIELDS.values() if not (values.get(field) or "").strip()]
        # Asked on every save with an issuer, not only for blank endpoints: the stored issuer is
        # then always the one its own document names (a connection saved before that rule
        # included), or the operator is told that the document names another.
        if not issuer:
            return filled, {}
        try:
            validators.validate_outbound_url(issuer, self.allowed_hosts, app_settings.EXTRA_ALLOWED_HOSTS)
            for url in discovery.metadata_urls(issuer):
                validators.validate_outbound_url(url, self.allowed_hosts, app_settings.EXTRA_ALLOWED_HOSTS)
        except ValidationError:
            return filled, {}  # the issuer field's own rule says what is wrong with it
        try:
            document = discovery.fetch_metadata(issuer)
        except failures.OAuthFailure as failure:
            # Another issuer's document is always the operator's problem (its endpoints would be
            # another server's); a missing one only when the token endpoint is blank.
            if failure.kind == "issuer_mismatch" or "token_url" in blank:
                return filled, {"issuer_url": failure.message}
            return filled, {}
        found = discovery.endpoints(document)
        filled.update(
            {field: found[name] for name, field in DISCOVERED_FIELDS.items() if field in blank and name in found}
        )
        # Exactly as the metadata names it (a trailing "/" included): RFC 9207 §2.4.
        filled["issuer_url"] = document["issuer"]
        return filled, {}

    def _apply_template(self, values):
        """({field: value} the chosen template gives, {field: sentence} for what does not fit)."""
        key = (values.get("template") or "").strip()
        if not key:
            return {}, {}
        template = catalog.get(key)
        if template is None:
            return {}, {"template": _("Choose one of the listed templates, or none.")}
        entered = {p.name: values.get(template_field(p.name)) or "" for p in template.parameters}
        problems = template.errors_for(entered)
        if problems:
            return {}, {template_field(name): sentence for name, sentence in problems.items()}
        issuer = template.issuer_for(entered)
        filled = {"issuer_url": issuer, "revokes_single_tokens": "on" if template.revokes_single_tokens else ""}
        if (values.get("issuer_url") or "").strip() != issuer:
            # Another issuer (a new template or new values): its endpoints are discovered anew,
            # never kept from the previous one.
            filled.update({field: "" for field in DISCOVERED_FIELDS.values()})
        if not (values.get("scope") or "").strip():
            filled["scope"] = template.scope
        return filled, {}

    def form_only_fields(self):
        # One input per parameter name any template uses; a template's own help says what it
        # wants there (static/connectors/templates.js shows only the chosen template's inputs).
        fields = {}
        for name, uses in catalog.parameters().items():
            label = uses[0][1].label
            helps = list(dict.fromkeys(parameter.help for _template, parameter in uses))
            fields[template_field(name)] = (label, _JoinedWords(helps))
        return fields

    def field_notes(self, connection):
        template = self.template_of(connection)
        return {"template": template.quirks} if template else {}

    def widget_attributes(self):
        inputs = {t.key: [template_field(p.name) for p in t.parameters] for t in catalog.templates().values()}
        return {"template": {"data-template-parameters": json.dumps(inputs)}}

    def form_only_initial(self, connection):
        values = self.template_values_of(connection)
        return {template_field(name): str(value) for name, value in values.items()}

    def store_form_only_values(self, connection, values):
        template = catalog.get(values.get("template") or "")
        connection.template_values = (
            {p.name: (values.get(template_field(p.name)) or "").strip() for p in template.parameters}
            if template
            else {}
        )

    def extra_errors(self, connection):
        errors = {}
        template_key = getattr(connection, "template", "")
        if template_key:
            template = catalog.get(template_key)
            problems = template.errors_for(self.template_values_of(connection)) if template else {}
            if template is None:
                errors["template"] = _("Choose one of the listed templates, or none.")
            elif problems:
                errors["template"] = next(iter(problems.values()))
        if not connection.token_url:
            errors["token_url"] = _(
                "Enter the token endpoint, or an Issuer URL whose discovery document names it (saving fills it in)."
            )
        for name, sentence in FIELDS_EACH_GRANT_NEEDS.get(connection.grant, {}).items():
            if not getattr(connection, name, ""):
                errors[name] = str(sentence)
        return errors

    def issuer(self, connection):
        # RFC 9207 §2.4: compared by simple string comparison, so exactly as stored (saving with
        # discovery stores the metadata's own value); from a metadata address typed with every
        # endpoint, the issuer that address belongs to.
        typed = getattr(connection, "issuer_url", "") or ""
        if not typed:
            return None
        if discovery.OPENID_CONFIGURATION in typed or discovery.OAUTH_AUTHORIZATION_SERVER in typed:
            return discovery.issuer_of_metadata_url(typed)
        return typed

    def template_of(self, connection):
        return catalog.get(getattr(connection, "template", ""))

    def template_values_of(self, connection):
        values = getattr(connection, "template_values", None)
        return values if isinstance(values, dict) else {}

    def revocation_ends_grant_of(self, connection):
        # The operator's choice (from the template when one is used): off unless the server is
        # known to revoke single tokens, since revoking at a server that ends the whole grant
        # would also end the authorization that just replaced the token.
        return not getattr(connection, "revokes_single_tokens", False)

    def extra_authorization_parameters(self, connection):
        template = self.template_of(connection)
        if template is None:
            return {}
        return template.parameters_for(template.authorize_parameters, self.template_values_of(connection))

    def extra_token_parameters(self, connection):
        template = self.template_of(connection)
        if template is None:
            return {}
        return template.parameters_for(template.token_parameters, self.template_values_of(connection))

    def details_from_token(self, connection, token):
        template = self.template_of(connection)
        if template is None:
            return {}
        return {name: token[name] for name in template.token_answer_fields if isinstance(token.get(name), str)}

    def probe_url(self, connection):
        """The typed Probe URL; else the template's (with its values and the kept token answer
        fields); else the user info endpoint, for a grant whose tokens act for a user. A client
        credentials token has no user, so userinfo would refuse it: "" then (Test stops at the
        token, connectors/diagnostics.py)."""
        if connection.probe_url:
            return connection.probe_url
        template = self.template_of(connection)
        if template is not None and template.probe_url:
            details = getattr(connection, "token_details", None) or {}
            values = {**template.values_with_defaults(self.template_values_of(connection)), **details}
            if all(values.get(name) for name in catalog.PLACEHOLDER.findall(template.probe_url)):
                return template.render(template.probe_url, values)
        from connectors.partners.grants import of as grant_of  # the grants build on the providers

        return connection.userinfo_url if grant_of(connection).token_acts_for_a_user else ""

    def account_url(self, connection):
        # The userinfo endpoint even when the test request goes to an API of the partner.
        return connection.userinfo_url or self.probe_url(connection)

    def revocation_url(self, connection):
        return connection.revocation_url


PROVIDER = Generic(
    key="generic",
    label=gettext_lazy("OpenID Connect / OAuth 2.0 (any provider)"),
    model_name="GenericConnection",
    grant=AUTHORIZATION_CODE,
    grant_choices=(AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD),
    client_authentication="client_secret_basic",
    # A conforming userinfo names the account (name, e-mail) only for scopes profile and email.
    default_scope="openid profile email",
    # None of its own: every host is one an administrator allowed (EXTRA_ALLOWED_HOSTS).
    allowed_hosts=(),
    connection_fields=(
        "name",
        "template",
        *(template_field(name) for name in catalog.parameters()),
        "issuer_url",
        "authorization_url",
        "token_url",
        "userinfo_url",
        "revocation_url",
        "probe_url",
        "revokes_single_tokens",
    ),
    oauth_fields=(
        "grant",
        "client_authentication",
        "client_id",
        "client_secret",
        "username",
        "password",
        "scope",
    ),
    url_fields=("issuer_url", "authorization_url", "token_url", "userinfo_url", "revocation_url", "probe_url"),
    resource_url_fields=("userinfo_url", "probe_url"),
    field_choices={
        "grant": grant_choices,
        "client_authentication": client_authentication_choices,
        "template": catalog.choices,
    },
    field_rules={"client_authentication": (validate_client_authentication,)},
    shows_callback_url=True,
    url_source_fields=gettext_lazy("Issuer URL"),
    probe_forbidden_hint=gettext_lazy("the account or the Scope lacks a permission the test request needs."),
    probe_unauthorized_hint=gettext_lazy("check the Scope and the Probe URL."),
    help_texts={
        "name": gettext_lazy("Your name for this account at the partner; one connection per account."),
        "template": gettext_lazy(
            "A well-known provider: fill in its field(s) below and save; the Issuer URL, the scope and the "
            "revocation choice follow from it. None: type the Issuer URL yourself."
        ),
        "issuer_url": gettext_lazy(
            "The partner's issuer, e.g. https://login.partner.example/realms/acme, or the address of its "
            "discovery document. Saving with blank endpoints fills them in from its discovery document and "
            "stores the issuer exactly as that document names it."
        ),
        "revokes_single_tokens": gettext_lazy(
            "Tick only if the partner documents that revoking one refresh token leaves the rest of the "
            "authorization alive. Then Regenerate revokes the replaced refresh token; otherwise it does not, "
            "because at most servers (Keycloak, Google, Auth0, …) that would also end the new authorization. "
            "Deleting the connection revokes its refresh token either way."
        ),
        "authorization_url": gettext_lazy("Where Generate sends you to log in (authorization code grant)."),
        "token_url": gettext_lazy("Where tokens are requested."),
        "userinfo_url": gettext_lazy("The user info endpoint (OpenID Connect); the default test request."),
        "revocation_url": gettext_lazy(
            "RFC 7009 revocation endpoint; the refresh token of a deleted connection is revoked there."
        ),
        "probe_url": gettext_lazy(
            "A cheap read-only address of the partner's API that Test Connection calls with the token. Leave "
            "blank for the user info endpoint (the client credentials grant then only checks that a token is "
            "issued: its tokens act for no user)."
        ),
        "grant": gettext_lazy("How tokens are obtained; ask the partner which grant your client may use."),
        "client_authentication": gettext_lazy(
            "How the client identifies itself at the token endpoint (the partner's "
            "token_endpoint_auth_methods_supported)."
        ),
        "client_id": gettext_lazy("The client ID the partner registered for this integration."),
        "client_secret": gettext_lazy("The client secret; blank for a public client (client authentication none)."),
        "username": gettext_lazy("Password grant only: the account the integration acts as."),
        "password": gettext_lazy("Password grant only: that account's password."),
        "scope": gettext_lazy(
            "Space-separated scopes, e.g. “openid profile email offline_access” (profile and email name the "
            "account; offline_access asks for a refresh token)."
        ),
    },
)
