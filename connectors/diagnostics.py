"""Test Connection: get a token, then make the provider's cheap read-only request, and say in one
sentence whether it worked and what to fix."""

import time
from dataclasses import asdict, dataclass

from django.utils import timezone

from . import events, failures, oauth, tokens
from .models import Connection
from .providers.base import AUTHORIZATION_CODE

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
        outcome = "Passed" if self.passed else f"Failed at the {self.step} step"
        status = f", HTTP {self.status}" if self.status else ""
        return f"{outcome} ({self.elapsed_ms} ms{status}): {self.message}"

    def as_dict(self):
        return {**asdict(self), "sentence": self.sentence}


def _token_for_test(connection):
    if connection.provider_info.grant == AUTHORIZATION_CODE:
        if not connection.pk:
            raise failures.OAuthFailure("not_authorized", "Not authorized yet: save, then click Generate.")
        return tokens.get_access_token(connection)
    # Password and client credentials: always a fresh token, so the entered credentials are tested.
    return tokens.fetch_new_token(connection)["access_token"]


def run_test(connection, *, record=False, user=None):
    """Test the connection (saved or not). With record=True the outcome is stored on the saved
    connection and logged as an event."""
    started = time.monotonic()
    step = TOKEN_STEP
    try:
        access_token = _token_for_test(connection)
        step = PROBE_STEP
        status = oauth.probe(connection, access_token)
    except failures.OAuthFailure as failure:
        result = TestResult(False, step, failure.status, _ms(started), failure.message)
    else:
        host = failures.host_of(connection.provider_info.probe_url(connection))
        result = TestResult(
            True,
            step,
            status,
            _ms(started),
            f"the settings work: a token was issued and {host} answered the test request.",
        )
    if record and connection.pk:
        Connection.objects.filter(pk=connection.pk).update(
            last_test_at=timezone.now(), last_test_passed=result.passed, last_test_message=result.sentence[:500]
        )
        events.record(
            connection,
            "tested" if result.passed else "test failed",
            user,
            succeeded=result.passed,
            detail=result.sentence,
        )
    return result


def _ms(started):
    return int((time.monotonic() - started) * 1000)
