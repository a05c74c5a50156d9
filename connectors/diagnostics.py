"""Test Connection: get a token, then make the provider's cheap read-only request, and say in one
sentence whether it worked and what to fix."""

import time
from dataclasses import asdict, dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import events, failures, oauth, tokens
from .models import Connection
from .providers.base import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD

TOKEN_STEP = "token"
PROBE_STEP = "test request"


@dataclass
class TestResult:
    passed: bool
    step: str
    status: int | None
    elapsed_ms: int
    message: str

    @property
    def sentence(self):
        """The whole outcome in one line, for messages, events and the lists' tooltips."""
        if self.step == "settings" and not self.passed:
            return f"{self.headline}: {self.message}"  # nothing ran: no time, no status
        status = f", HTTP {self.status}" if self.status else ""
        return f"{self.headline} ({self.elapsed_ms} ms{status}): {self.message}"

    @property
    def headline(self):
        """The outcome in words, for the result box: "Passed" or "Failed at the token step"."""
        if self.passed:
            return _("Passed")
        if self.step == "settings":
            return _("Not tested")
        return _("Failed at the %(step)s step") % {"step": self.step}

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
        return self.message[:1].upper() + self.message[1:]

    def as_dict(self):
        return {**asdict(self), "sentence": self.sentence}


# The secrets a grant cannot do without: (field, how a sentence names it when it is not set).
REQUIRED_SECRETS = {
    PASSWORD: (
        ("client_secret", gettext_lazy("client secret"), gettext_lazy("Client Secret")),
        ("password", gettext_lazy("password"), gettext_lazy("Password")),
    ),
    CLIENT_CREDENTIALS: (("client_secret", gettext_lazy("client secret"), gettext_lazy("Client Secret")),),
}


def missing_secret(connection, then=None):
    """The sentence for a secret the grant needs but the connection lacks, before any request;
    `then` is what to do once it is typed (default: test again)."""
    for name, words, label in REQUIRED_SECRETS.get(connection.provider_info.grant, ()):
        if not getattr(connection, name, ""):
            return _("No %(secret)s is stored: type the %(field)s on the OAuth 2.0 tab and %(then)s.") % {
                "secret": words,
                "field": label,
                "then": then or _("test again"),
            }
    return None


def _token_for_test(connection):
    if connection.provider_info.grant == AUTHORIZATION_CODE:
        if not connection.pk:
            raise failures.OAuthFailure("not_authorized", "Not authorized yet: save, then click Generate.")
        try:
            return tokens.get_access_token(connection)
        except failures.OAuthFailure as failure:
            if failure.kind != "renewal_backoff":
                raise
            # Renewals are backing off and the token has expired: the operator asks now, so try.
            return tokens.get_access_token(connection, force=True)
    # Password and client credentials: always a fresh token, so the entered credentials are tested.
    return tokens.fetch_new_token(connection)["access_token"]


def run_test(connection, *, record=False, user=None):
    """Test the connection (saved or not). With record=True the outcome is stored on the saved
    connection and logged as an event."""
    started = time.monotonic()
    step = TOKEN_STEP
    missing = missing_secret(connection)
    if missing:
        result = TestResult(False, "settings", None, 0, missing)
        if record and connection.pk:
            record_outcome(connection, result, user)
        return result
    try:
        access_token = _token_for_test(connection)
        step = PROBE_STEP
        status = oauth.probe(connection, access_token)
    except failures.OAuthFailure as failure:
        result = TestResult(False, step, failure.status, _ms(started), failure.message)
    else:
        host = failures.host_of(connection.provider_info.probe_url(connection))
        if connection.provider_info.grant == AUTHORIZATION_CODE:
            words = _("the stored token works: %(host)s answered the test request.")
        else:
            words = _("the settings work: a token was issued and %(host)s answered the test request.")
        result = TestResult(True, step, status, _ms(started), words % {"host": host})
    if record and connection.pk:
        record_outcome(connection, result, user)
    return result


def record_outcome(connection, result, user, *, before_saving=False):
    """Store a test's outcome on the saved connection and log it."""
    Connection.objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(), last_test_passed=result.passed, last_test_message=result.sentence[:500]
    )
    detail = result.sentence
    if before_saving:
        detail = _("Tested before saving, with the settings saved: %(sentence)s") % {"sentence": result.sentence}
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
        urls.append(connection.provider_info.probe_url(connection).split("?", 1)[0])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        pass  # no probe URL can be built from these settings
    return list(dict.fromkeys(url for url in urls if url))


def record_unsaved_test(connection, result, user):
    """An edited, unsaved form was tested with the saved connection's stored secrets: log where
    they went, so that a test against another place is on the record like a saved one."""
    detail = _("Unsaved settings tested against %(urls)s: %(sentence)s") % {
        "urls": ", ".join(urls_used(connection)),
        "sentence": result.sentence,
    }
    events.record(connection, "tested unsaved", user, succeeded=result.passed, detail=detail)


def _ms(started):
    return int((time.monotonic() - started) * 1000)
