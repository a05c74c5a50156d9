"""What the API reads and answers (pydantic models through django-ninja, which also turns them
into the OpenAPI document). No schema has a field for a secret, except TokenOut's token."""

from datetime import datetime

from ninja import Field, Schema


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


class TokenIn(Schema):
    min_valid_seconds: int | None = Field(
        None,
        ge=0,
        le=86400,
        description="Renew first when the token expires within this many seconds (default: REFRESH_MARGIN_SECONDS).",
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
