"""Deployment-specific input checks; each failure names the field and the limit."""

from __future__ import annotations

import hashlib
import json
import math
import re

from app.errors import ValidationFailed
from app.gateway.schemas import InferenceCreate
from app.settings import Settings

# C0 controls except tab/newline/carriage return, plus DEL: never meaningful in a prompt.
FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DEFAULT_MAX_TOKENS = 512
CHARS_PER_TOKEN = 4


def validate_inference(body: InferenceCreate, settings: Settings) -> None:
    """Raise ValidationFailed for the first limit ``body`` breaks."""
    prompt = body.prompt
    if len(prompt) > settings.max_prompt_chars:
        raise ValidationFailed(
            f"prompt has {len(prompt)} characters; the limit is {settings.max_prompt_chars}",
            field="prompt",
        )
    try:
        prompt.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed(
            "prompt must be valid UTF-8 text (found an unpaired surrogate)", field="prompt"
        ) from exc
    if FORBIDDEN_CHARS.search(prompt):
        raise ValidationFailed(
            "prompt contains control characters; only tab, newline and carriage return are allowed",
            field="prompt",
        )
    if body.model not in settings.allowed_models:
        allowed = ", ".join(sorted(settings.allowed_models))
        raise ValidationFailed(
            f"model {body.model[:100]!r} is not allowed; choose one of: {allowed}", field="model"
        )
    max_tokens = body.parameters.max_tokens
    if max_tokens is not None and max_tokens > settings.max_output_tokens:
        raise ValidationFailed(
            f"parameters.maxTokens is {max_tokens}; the limit is {settings.max_output_tokens}",
            field="parameters.maxTokens",
        )
    for stop in body.parameters.stop or []:
        if not 1 <= len(stop) <= 64:
            raise ValidationFailed(
                "each parameters.stop entry must have 1 to 64 characters", field="parameters.stop"
            )


def estimated_tokens(body: InferenceCreate) -> int:
    """Tokens charged to the tokens/minute buckets: prompt estimate + output allowance."""
    output = body.parameters.max_tokens or DEFAULT_MAX_TOKENS
    return math.ceil(len(body.prompt) / CHARS_PER_TOKEN) + output


def request_hash(body: InferenceCreate) -> str:
    """Canonical hash of the body, to tell an idempotent replay from a conflicting reuse."""
    canonical = json.dumps(
        body.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
