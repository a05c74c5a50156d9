"""Test Connection: get a token, then make the provider's cheap read-only request, and say in one
sentence whether it worked and what to fix.

The test follows the token's real path (connectors/store/health.py's decision table): a test of the
saved settings gets its token through the renewal (so a token it obtains is stored, and a
refusal or passing fault lands in the same facts a renewal would leave); a probe answering 401
to a stored token is tried once more with a renewed one before anyone is told to Regenerate;
and a test that stopped before sending anything ("Not tested") records no failure."""

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.core import failures, sentences
from connectors.core.sentences import Sentence
from connectors.engine import alerts, tokens
from connectors.models import Connection
from connectors.partners import grants, oauth
from connectors.store import events, health

TOKEN_STEP = "token"
PROBE_STEP = "test request"

# The steps as a sentence names them ("Failed at the token step").
STEP_NAMES = {
    TOKEN_STEP: gettext_lazy("token"),
    PROBE_STEP: gettext_lazy("test request"),
    "test": gettext_lazy("test"),
}

# The sentences of Test Connection by code (connectors/core/sentences.py).
sentences.register(
    {
        "test_passed": gettext_lazy("Passed"),
        "test_not_run": gettext_lazy("Not tested"),
        "test_failed_at": gettext_lazy("Failed at the %(step)s step"),
        "test_outcome_settings": gettext_lazy("%(headline)s: %(message)s"),
        "test_outcome": gettext_lazy("%(headline)s (%(ms)d ms): %(message)s"),
        "test_outcome_status": gettext_lazy("%(headline)s (%(ms)d ms, HTTP %(status)s): %(message)s"),
        "test_token_works": gettext_lazy("the stored token works: %(host)s answered the test request."),
        "test_settings_work": gettext_lazy(
            "the settings work: a token was issued and %(host)s answered the test request."
        ),
        "test_token_only": gettext_lazy(
            "%(host)s issued a token. No test request was made: this grant's tokens act for no user, so the user "
            "info endpoint cannot answer them. Enter a Probe URL (a cheap read-only address of the partner's API) "
            "on the Connection tab to test the token too."
        ),
        "test_not_authorized_unsaved": gettext_lazy("Not authorized yet: save, then click Generate."),
        "test_before_saving": gettext_lazy("Tested before saving, with the settings saved: %(sentence)s"),
        "test_unsaved": gettext_lazy("Unsaved settings tested against %(urls)s: %(sentence)s"),
        "test_crashed": gettext_lazy("The test could not run (%(error)s): see the server log."),
        "missing_client_secret_test": gettext_lazy(
            "No client secret is stored: type the Client Secret on the OAuth 2.0 tab and test again."
        ),
        "missing_client_secret_generate": gettext_lazy(
            "No client secret is stored: type the Client Secret on the OAuth 2.0 tab and click Generate."
        ),
        "missing_password_test": gettext_lazy(
            "No password is stored: type the Password on the OAuth 2.0 tab and test again."
        ),
        "missing_password_generate": gettext_lazy(
            "No password is stored: type the Password on the OAuth 2.0 tab and click Generate."
        ),
        "probe_refused_renewed": gettext_lazy(
            "The provider refused even a freshly renewed token at %(host)s (HTTP 401), so the token is not the "
            "cause: %(hint)s"
        ),
        "probe_refused_fresh": gettext_lazy(
            "The provider refused a token it had just issued at %(host)s (HTTP 401), so the token is not the "
            "cause: %(hint)s"
        ),
        "probe_refused_no_refresh": gettext_lazy(
            "The provider refused the stored token at %(host)s (HTTP 401) and there is no refresh token to renew "
            "it: click Regenerate."
        ),
    }
)


@dataclass
class TestResult:
    passed: bool
    step: str
    status: int | None
    elapsed_ms: int
    # A Sentence (shown in the reader's language) or, for what is never stored, plain text.
    message: Any

    @property
    def sentence(self):
        """The whole outcome in one line, for messages, events and the lists' tooltips."""
        if self.step == "settings" and not self.passed:
            # nothing ran: no time, no status
            return Sentence("test_outcome_settings", headline=self.headline, message=self.message)
        if self.status:
            return Sentence(
                "test_outcome_status",
                headline=self.headline,
                ms=self.elapsed_ms,
                status=self.status,
                message=self.message,
            )
        return Sentence("test_outcome", headline=self.headline, ms=self.elapsed_ms, message=self.message)

    @property
    def headline(self):
        """The outcome in words, for the result box: "Passed" or "Failed at the token step"."""
        if self.passed:
            return Sentence("test_passed")
        if self.step == "settings":
            return Sentence("test_not_run")
        return Sentence("test_failed_at", step=sentences.Label(STEP_NAMES.get(self.step, self.step)))

    @property
    def meta(self):
        """Time and HTTP status, for the result box: "412 ms · HTTP 401"."""
        parts = [_("%(ms)d ms") % {"ms": self.elapsed_ms}]
        if self.status:
            parts.append(_("HTTP %(status)d") % {"status": self.status})
        return " · ".join(parts)

    @property
    def message_sentence(self):
        """The message as a sentence of its own (capitalized), for under the headline."""
        text = str(self.message)
        return text[:1].upper() + text[1:]

    def as_dict(self):
        return {**asdict(self), "message": str(self.message), "sentence": str(self.sentence)}

    def stored_message(self):
        """The message for a JSON store (the session): its code and parameters, or its text."""
        return sentences.stored(self.message) or str(self.message)

    @classmethod
    def from_stored(cls, passed, step, status, elapsed_ms, message):
        if isinstance(message, dict) and sentences.known(message.get("code")):
            message = Sentence(message["code"], **(message.get("params") or {}))
        return cls(passed, step, status, elapsed_ms, message)


def missing_secret(connection, action="test"):
    """The sentence for a secret the connection's grant needs but the connection lacks, before
    any request; `action` is what to do once it is typed: "test" (test again) or "generate"."""
    for name in grants.of(connection).required_secrets:
        if not getattr(connection, name, ""):
            return Sentence(f"missing_{name}_{action}")
    return None


def run_test(connection, *, record=False, user=None, reuse_token=False):
    """Test the connection (saved or not). With record=True the outcome is stored on the saved
    connection and logged as an event. With reuse_token=True (a test asked through the API) the
    stored token is probed while it is fresh, renewed through the usual path (which honours the
    partner's cooldown) when not: a consumer's repeated tests make no token request each."""
    started = time.monotonic()
    step = TOKEN_STEP
    missing = missing_secret(connection)
    if missing:
        result = TestResult(False, "settings", None, 0, missing)
        if record and connection.pk:
            record_outcome(connection, result, user)
        return result
    grant = grants.of(connection)
    saved = bool(record and connection.pk)
    try:
        # What Test does first is the grant's: the stored token (authorization code) or a new
        # one for the entered credentials (stored when they are the saved ones).
        if reuse_token and connection.pk:
            access_token = tokens.get_access_token(connection)
        else:
            access_token = grant.token_for_test(connection, tokens.get_access_token, saved=saved)
        probe_url = connection.provider_info.probe_url(connection)
        if probe_url:
            step = PROBE_STEP
            try:
                status = oauth.probe(connection, access_token)
            except failures.OAuthFailure as refused:
                if refused.status != 401:
                    raise
                _only_a_renewal_can_tell(connection, grant)
                step = TOKEN_STEP
                tokens.get_access_token(connection, force=True)
                step = PROBE_STEP
                status = _probe_again(connection)
    except failures.OAuthFailure as failure:
        if health.verdict(failure, connection) == health.Verdict.NOT_SENT:
            # Nothing was sent (no token to test with): "Not tested", not a failure.
            result = TestResult(False, "settings", None, 0, failure.message)
        else:
            result = TestResult(False, step, failure.status, _ms(started), failure.message)
    else:
        if probe_url:
            words = Sentence(grant.passed_sentence_code, host=failures.host_of(probe_url))
            result = TestResult(True, step, status, _ms(started), words)
        else:
            # Nothing to call with the token (a client credentials token and no Probe URL): the
            # token is what could be tested.
            words = Sentence("test_token_only", host=failures.host_of(connection.token_url))
            result = TestResult(True, TOKEN_STEP, None, _ms(started), words)
    if record and connection.pk:
        record_outcome(connection, result, user)
    if not result.passed and connection.pk:
        # A refusal or a dead authorization this test met on the saved token's path starts its
        # alert episode, as in the worker (one mail per episode).
        alerts.check(connection.pk)
    return result


def _hint(connection):
    return sentences.Label(connection.provider_info.probe_unauthorized_hint)


def _only_a_renewal_can_tell(connection, grant):
    """The probe refused the token (HTTP 401). A token the provider had just issued is not the
    cause, and a stored one without a refresh token cannot be renewed: say which (raises).
    Otherwise the caller renews the stored token once (a dead refresh token then says
    "Regenerate") and probes again."""
    host = failures.host_of(connection.provider_info.probe_url(connection))
    if not grant.test_uses_stored_token:
        raise failures.failure("token_refused", 401, "probe_refused_fresh", host=host, hint=_hint(connection))
    if not connection.refresh_token:
        raise failures.failure("token_refused", 401, "probe_refused_no_refresh", host=host)


def _probe_again(connection):
    try:
        return oauth.probe(connection, connection.access_token)
    except failures.OAuthFailure as refused:
        if refused.status != 401:
            raise
        host = failures.host_of(connection.provider_info.probe_url(connection))
        raise failures.failure(
            "token_refused", 401, "probe_refused_renewed", host=host, hint=_hint(connection)
        ) from None


def record_outcome(connection, result, user, *, before_saving=False):
    """Store a test's outcome on the saved connection and log it. A test that sent nothing
    ("Not tested") is logged only: it says nothing about the settings, so the last test stays."""
    if is_not_run(result):
        events.record(connection, "not tested", user, succeeded=False, detail=result.sentence)
        return
    with translation.override("en"):
        english = str(result.sentence)[:500]
    Connection.objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(),
        last_test_passed=result.passed,
        last_test_message=english,
        last_test_sentence=sentences.stored(result.sentence),
    )
    detail = result.sentence
    if before_saving:
        detail = Sentence("test_before_saving", sentence=result.sentence)
    events.record(
        connection,
        "tested" if result.passed else "test failed",
        user,
        succeeded=result.passed,
        detail=detail,
    )


def is_not_run(result):
    """Did the test stop before sending anything (a secret not stored, no token yet)?"""
    return not result.passed and result.step == "settings"


def stored_as_not_run(stored_sentence):
    """Is this stored outcome sentence (TestResult.sentence) one of a test that sent nothing?"""
    return isinstance(stored_sentence, dict) and stored_sentence.get("code") == "test_outcome_settings"


def urls_used(connection):
    """Every URL a test of these settings may send credentials or a token to."""
    urls = [getattr(connection, name, "") for name in connection.provider_info.url_fields]
    try:
        urls.append(connection.provider_info.probe_url(connection).split("?", 1)[0])  # "" dropped below
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        pass  # no probe URL can be built from these settings
    return list(dict.fromkeys(url for url in urls if url))


def record_unsaved_test(connection, result, user):
    """An edited, unsaved form was tested with the saved connection's stored secrets: log where
    they went, so that a test against another place is on the record like a saved one."""
    detail = Sentence("test_unsaved", urls=", ".join(urls_used(connection)), sentence=result.sentence)
    events.record(connection, "tested unsaved", user, succeeded=result.passed, detail=detail)


def _ms(started):
    return int((time.monotonic() - started) * 1000)
