"""Request/response models (Create/Public families); JSON field names are camelCase.

Static bounds here are the hard ceilings; the deployment's tighter limits
(MAX_PROMPT_CHARS, MAX_OUTPUT_TOKENS, MODEL_ALLOWLIST) are checked in ``validation.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from app.db.models import RequestStatus

HARD_MAX_PROMPT_CHARS = 1_000_000
HARD_MAX_TOKENS = 131_072


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class InferenceParameters(ApiModel):
    """Generation parameters; unknown names are rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(
        default=None, ge=1, le=HARD_MAX_TOKENS, description="Also capped by MAX_OUTPUT_TOKENS."
    )
    stop: list[str] | None = Field(default=None, max_length=4)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class InferenceCreate(ApiModel):
    """Body of POST /api/inference."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    prompt: str = Field(
        min_length=1,
        max_length=HARD_MAX_PROMPT_CHARS,
        description="UTF-8 text without NUL/control characters; at most MAX_PROMPT_CHARS "
        "characters (default 32000).",
    )
    model: str = Field(
        min_length=1, max_length=100, description="One of the models in MODEL_ALLOWLIST."
    )
    parameters: InferenceParameters = Field(default_factory=InferenceParameters)


class Links(ApiModel):
    self_: str = Field(alias="self", serialization_alias="self")
    result: str


class InferencePublic(ApiModel):
    """A request's status and timestamps."""

    id: str = Field(description='"req_" followed by 26 characters.')
    status: RequestStatus
    model: str
    created_at: datetime
    updated_at: datetime = Field(
        description="Last write to the request. It can move after completed_at when the "
        "platform retries writing the request's archive copy; completed_at does not move."
    )
    started_at: datetime | None = None
    completed_at: datetime | None = None
    links: Links


class Tokens(ApiModel):
    input: int
    output: int
    total: int


class InferenceResult(ApiModel):
    """A completed request's output."""

    id: str
    status: Literal["completed"] = "completed"
    model: str
    provider: str | None
    response: str
    tokens: Tokens
    processing_time: int = Field(description="Milliseconds spent by the worker.")
    completed_at: datetime | None


class ErrorDetail(ApiModel):
    code: str = Field(description="Stable machine-readable code, e.g. rate_limited.")
    message: str = Field(description="What was wrong and what to do.")
    field: str | None = Field(default=None, description="The offending field, if any.")
    request_id: str | None = None


class ErrorBody(ApiModel):
    """Every error answer: ``{"error": {...}}`` (plus id/status on result errors)."""

    error: ErrorDetail
    id: str | None = None
    status: RequestStatus | None = None


class ApiKeyCreate(ApiModel):
    name: str = Field(default="", max_length=200)
    role: Literal["user", "admin"] = "user"
    requests_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)


class ApiKeyPublic(ApiModel):
    id: str
    prefix: str
    name: str
    role: str
    requests_per_minute: int | None
    revoked: bool
    created_at: datetime | None
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The plaintext key; shown only in this response.")


class ModelUsage(ApiModel):
    model: str
    provider: str
    requests: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    avg_latency_ms: float


class UsagePublic(ApiModel):
    tenant_id: str
    since: datetime
    until: datetime
    models: list[ModelUsage]
    total_requests: int
    total_cost_usd: float
