"""Test Connection: get a token, then make the provider's cheap read-only request, and say in one
sentence whether it worked and what to fix."""

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connectors.core import failures, sentences
from connectors.core.sentences import Sentence
from connectors.engine import tokens
from connectors.models import Connection
from connectors.partners import grants, oauth
from connectors.store import events

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
    try:
        # What Test does first is the grant's: the stored token (authorization code) or a fresh
        # one, so that the entered credentials are what is tested.
        if reuse_token and connection.pk:
            access_token = tokens.get_access_token(connection)
        else:
            access_token = grants.of(connection).token_for_test(connection, tokens.get_access_token)
        probe_url = connection.provider_info.probe_url(connection)
        if probe_url:
            step = PROBE_STEP
            status = oauth.probe(connection, access_token)
    except failures.OAuthFailure as failure:
        result = TestResult(False, step, failure.status, _ms(started), failure.message)
    else:
        if probe_url:
            words = Sentence(grants.of(connection).passed_sentence_code, host=failures.host_of(probe_url))
            result = TestResult(True, step, status, _ms(started), words)
        else:
            # Nothing to call with the token (a client credentials token and no Probe URL): the
            # token is what could be tested.
            words = Sentence("test_token_only", host=failures.host_of(connection.token_url))
            result = TestResult(True, TOKEN_STEP, None, _ms(started), words)
    if record and connection.pk:
        record_outcome(connection, result, user)
    return result


def record_outcome(connection, result, user, *, before_saving=False):
    """Store a test's outcome on the saved connection and log it."""
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
