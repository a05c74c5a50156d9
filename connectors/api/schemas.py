"""What the API reads and answers (pydantic models through django-ninja, which also turns them
into the OpenAPI document). No schema has a field for a secret, except TokenOut's token."""

from datetime import datetime
from enum import Enum
from typing import Annotated

from annotated_types import Interval
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, Strict

from connectors.api.paging import CURSOR_PATTERN
from connectors.partners.providers import PROVIDERS
from connectors.store.health import Health

# Strict input: a JSON number for an integer, true/false for a boolean, no field the document
# does not name (a typo must not silently fall back to a default).
STRICT = ConfigDict(extra="forbid", strict=True)

ProviderKey = Enum("ProviderKey", {key: key for key in PROVIDERS}, type=str)  # type: ignore[misc]
HealthCode = Enum("HealthCode", {code.value: code.value for code in Health}, type=str)  # type: ignore[misc]


class HealthOut(Schema):
    code: str = Field(
        description="needs_reauthorization, renewal_failing, expired, test_failed, authorized, ready or not_authorized"
    )
    label: str


class LastTestOut(Schema):
    at: datetime
    passed: bool
    message: str = Field(description="The outcome sentence the admin shows.")


class ConnectionOut(Schema):
    id: int
    provider: str
    provider_label: str
    name: str
    health: HealthOut
    token_expires_at: datetime | None
    last_test: LastTestOut | None


class ConnectionPage(Schema):
    items: list[ConnectionOut]
    next: str | None = Field(
        description='The URL of the next page (also sent as an RFC 8288 `Link: <…>; rel="next"` header); '
        "null on the last page."
    )


class ConnectionsQuery(Schema):
    limit: int = Field(50, ge=1, le=200, description="How many connections per page (1 to 200).")
    cursor: str | None = Field(
        None,
        pattern=CURSOR_PATTERN,
        description="Where the page starts: take it from the previous page's `next` link.",
    )
    provider: ProviderKey | None = Field(None, description="Only connections of this provider.")
    health: HealthCode | None = Field(None, description="Only connections in this health.")


def _a_number(value):
    # JSON Schema counts 60.0 as an integer, so it is accepted; "60" and true are not numbers.
    if isinstance(value, (str, bool)):
        raise ValueError("must be a JSON number")
    return value


class TokenIn(Schema):
    model_config = STRICT

    min_valid_seconds: Annotated[int, Strict(False), Interval(ge=0, le=86400), BeforeValidator(_a_number)] | None = (
        Field(
            None,
            description="Renew first when the token expires within this many seconds (default: REFRESH_MARGIN_SECONDS).",
        )
    )
    force_refresh: bool = Field(False, description="Renew even when the stored token is still valid.")


class TokenOut(Schema):
    access_token: str
    token_type: str
    expires_at: datetime | None
    expires_in: int | None = Field(description="Seconds from now until the token expires.")
    scope: str


class TestOut(Schema):
    passed: bool
    step: str
    status: int | None
    elapsed_ms: int
    message: str
    sentence: str


class ProblemOut(Schema):
    """RFC 9457 problem details (sent as application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    regenerate_url: str | None = Field(
        None, description="With needs-reauthorization and not-authorized: the admin page with Generate/Regenerate."
    )
    errors: list[dict] | None = Field(None, description="With invalid-request: the fields to fix.")
    kind: str | None = Field(None, description="With partner-failed: what failed (timeout, invalid_client, …).")
