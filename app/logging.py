"""Structured JSON logs (structlog) with masking of secrets, API keys, emails and cards.

Prompts and responses are never logged: the ``prompt``/``response`` keys are dropped by
the masking processor, whatever the caller passes.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

DROPPED_KEYS = frozenset({"prompt", "response", "messages", "completion"})
# Fields whose values this code writes itself, never from client input: the level and
# our timestamp, the HTTP method (the parser admits only known methods), the route
# template, status codes and durations. Masking them cost ~15 us per access-log line,
# a quarter of the line; every other field (request ids included) is masked.
TRUSTED_KEYS = frozenset({"level", "timestamp", "method", "route", "status", "ms"})
# "token" but not "tokens": token counts (tokens_in, max_tokens) are usage, not secrets.
SECRET_KEYS = re.compile(r"(secret|password|token(?!s)|authorization|api_key|apikey|cookie)", re.I)
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bagk_[A-Za-z0-9_\-]{8,}"), "agk_***"),
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), "sk-***"),
    (re.compile(r"\bBearer\s+[A-Za-z0-9._\-~+/=]+", re.I), "Bearer ***"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "<jwt>"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "AKIA***"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "<email>"),
    (re.compile(r"\b(?:\d[ \-]?){12,18}\d\b"), "<card>"),
)


def mask_text(text: str) -> str:
    """Mask API keys, bearer tokens, JWTs, AWS key ids, emails and card-like numbers."""
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_value(key: str, value: Any) -> Any:
    """Mask one log field: secret-named keys entirely, strings by pattern, containers deeply."""
    if SECRET_KEYS.search(key):
        return "***"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {
            str(k): mask_value(str(k), v) for k, v in value.items() if str(k) not in DROPPED_KEYS
        }
    if isinstance(value, list | tuple):
        return [mask_value(key, item) for item in value]
    return value


def masking_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor applying ``mask_value`` to every field but the trusted ones."""
    return {
        key: (value if key in TRUSTED_KEYS else mask_value(key, value))
        for key, value in event_dict.items()
        if key not in DROPPED_KEYS
    }


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now (test runners and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO") -> None:
    """Route structlog to one JSON line per event on stderr (stdout stays for data)."""
    numeric = logging.getLevelName(level.upper())
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            masking_processor,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    """A structlog logger bound to ``name``."""
    return structlog.get_logger(name)
