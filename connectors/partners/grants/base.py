"""What every grant strategy owns: how a token is fetched and renewed, whether there is a
Generate button and what it does, what Test Connection does first, what a dead grant
(`invalid_grant`) means and what the operator should do.

A provider names its grant (or, like the generic OpenID Connect provider, lets the operator
choose one per connection); everything else asks the connection's strategy (`grants.of()`) and
never compares grant names.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from connectors.core import failures, sentences
from connectors.core.token_state import Status

if TYPE_CHECKING:
    from django.http import HttpRequest

    from connectors.models import Connection

sentences.register(
    {
        "reauthorize_because": gettext_lazy("%(reason)s: click Regenerate."),
        "expired_no_refresh_token": gettext_lazy(
            "The token has expired and there is no refresh token: click Regenerate."
        ),
        "not_authorized": gettext_lazy("Not authorized yet: click Generate."),
        "grant_changed": gettext_lazy(
            "This connection no longer uses a login page (its grant was changed): click Generate again."
        ),
    }
)

# A token answer as the token endpoint sent it (access_token, expires_in, refresh_token, ...).
Token = dict[str, Any]


@dataclass(frozen=True)
class Generated:
    """What Generate did: a URL to send the operator to, or a sentence saying how it went."""

    redirect_url: str = ""
    succeeded: bool = False
    sentence: "str | Promise" = ""


class AuthorizationFlow(Protocol):
    """What Generate needs from the engine's authorization flow (connectors/engine/authorization.py),
    handed to `Grant.generate` by the engine: the flow stores tokens, records events and plans
    renewals, all above the partners' layer, so a grant receives it instead of importing it."""

    def authorization_redirect(
        self, request: "HttpRequest", connection: "Connection", discovery_document: Any = None
    ) -> str: ...

    def token_now(self, connection: "Connection", grant: "Grant", user: Any) -> tuple[bool, Any]: ...


class Grant:
    # The RFC 6749 grant_type, stored on each connection (Connection.grant).
    key: str = ""
    # How the operator's drop-down names it, and how a sentence names it ("the … grant").
    label: "str | Promise" = ""
    words: "str | Promise" = ""
    # Generate: whether the button exists and what its help says.
    has_generate_button = True
    generate_hint: "str | Promise" = ""
    # No token stored is fine: one is fetched when first needed (health "ready").
    token_on_demand = False
    # What it means when the provider answers `invalid_grant` to a renewal: the reason stored
    # on the connection (as its English msgid, gettext_noop), which then needs reauthorization
    # ("" = a passing failure, retried).
    dead_grant_reason = ""
    # The fields to correct when the provider answers `invalid_grant` to this grant's own token
    # request (a refused password, a refused client): connectors/store/health.py names them.
    refused_grant_fields: tuple[str, ...] = ("client_id", "client_secret")
    # Why a token that cannot be renewed at all needs the operator (a msgid; "" = it can always
    # be fetched again without them).
    unrenewable_reason = ""
    # The sentence (connectors/core/sentences.py) for `invalid_grant` from the token endpoint.
    invalid_grant_sentence_code = "token_refused"
    # A person logs in at the provider to get the first token (and again when it dies).
    operator_logs_in = False
    # Its tokens act for a user (so a userinfo endpoint can answer them).
    token_acts_for_a_user = True
    # The secrets it cannot do without (fields; diagnostics names each in a sentence).
    required_secrets: tuple[str, ...] = ()
    # The event recorded when a renewal fails.
    renewal_failed_action = "token request failed"
    # Test Connection's sentence when it passed.
    passed_sentence_code = "test_settings_work"
    # Test Connection probes with the stored token (not one issued for the test): a 401 may
    # be the token's fault, so the test renews it once and probes again (connectors/engine/diagnostics.py).
    test_uses_stored_token = False

    def __str__(self) -> str:
        return str(self.label)

    # -- what differs ----------------------------------------------------------------------

    def fetch_token(self, connection: "Connection") -> Token:
        """A fresh token without the operator and without a refresh token (not saved)."""
        raise self.not_authorized(connection)

    def renew(self, connection: "Connection") -> tuple[Token, str]:
        """(the token answer, the event's action) renewing the connection's token (not saved)."""
        return self.fetch_token(connection), "token requested"

    def token_for_test(
        self, connection: "Connection", get_access_token: Callable[..., str], *, saved: bool = False
    ) -> str:
        """The token Test Connection probes with: by default a new one, so that the entered
        credentials are what is tested. For the saved settings (`saved`) it is asked for through
        the renewal (`get_access_token`, forced), the path every token takes: the token is stored
        (the connection is then authorized), and a refusal or passing fault is recorded as a
        renewal's would be. Unsaved settings get a token that is not stored."""
        if saved:
            return get_access_token(connection, force=True)
        return self.fetch_token(connection)["access_token"]

    def generate(self, request: "HttpRequest", connection: "Connection", flow: AuthorizationFlow) -> Generated:
        """What the Generate button does (only called when has_generate_button), through the
        engine's authorization `flow`."""
        return Generated(sentence=_("This provider needs no Generate: tokens are fetched on demand."))

    def exchange_code(self, connection: "Connection", code: str, verifier: str, redirect_uri: str) -> Token:
        """The callback's code exchange: only a grant with a login page has one."""
        raise failures.failure("not_authorized", None, "grant_changed")

    def account_of(self, connection: "Connection") -> str:
        """Whom a token is for, as the provider knows them ("" when unknown)."""
        return ""

    # -- shared -----------------------------------------------------------------------------

    def not_authorized(self, connection: "Connection") -> failures.OAuthFailure:
        """The failure for a connection that has no usable token and cannot get one alone."""
        if connection.status == Status.NEEDS_REAUTHORIZATION:
            # The reason is stored as its English msgid (gettext_noop where it is set).
            reason = connection.status_reason or gettext_noop(
                "The provider no longer accepts the stored authorization."
            )
            return failures.failure(
                "needs_reauthorization", None, "reauthorize_because", reason=sentences.Label(reason, strip=".")
            )
        if connection.has_token:
            return failures.failure("needs_reauthorization", None, "expired_no_refresh_token")
        return failures.failure("not_authorized")

    def missing_secret(self, connection: "Connection", action: str = "test") -> "sentences.Sentence | None":
        """The sentence for a secret this grant needs but the connection lacks (said before any
        request is made); `action` is what to do once it is typed: "test" or "generate"."""
        for name in self.required_secrets:
            if not getattr(connection, name, ""):
                return sentences.Sentence(f"missing_{name}_{action}")
        return None
