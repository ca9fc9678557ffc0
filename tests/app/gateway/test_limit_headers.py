"""X-RateLimit-* headers describe the bucket that decided, not always the tenant's."""

from __future__ import annotations

from app.gateway.accept import limit_headers
from app.ratelimit.base import Decision, rules_for

RULES = rules_for(
    tenant_id="t",
    key_id="k",
    tenant_rpm=600,
    tenant_tpm=100_000,
    key_rpm=7,
    key_tpm=9_000,
    tokens=1,
)


def test_refusal_by_the_key_limit_reports_the_key_bucket() -> None:
    decision = Decision(
        allowed=False,
        revoked=False,
        retry_after=8.2,
        remaining=(598, 99_000, 0, 8_000),
        denied_rule="key requests per minute",
    )
    headers = limit_headers(decision, RULES)
    assert headers["X-RateLimit-Limit"] == "7"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset"] == "9"


def test_admitted_request_reports_the_tightest_request_bucket() -> None:
    decision = Decision(allowed=True, revoked=False, retry_after=0.0, remaining=(598, 1, 3, 1))
    headers = limit_headers(decision, RULES)
    assert headers["X-RateLimit-Limit"] == "7"
    assert headers["X-RateLimit-Remaining"] == "3"


def test_jwt_requests_report_the_tenant_bucket() -> None:
    rules = rules_for(
        tenant_id="t", key_id=None, tenant_rpm=600, tenant_tpm=1, key_rpm=7, key_tpm=1, tokens=1
    )
    decision = Decision(allowed=True, revoked=False, retry_after=0.0, remaining=(42, 0))
    assert limit_headers(decision, rules)["X-RateLimit-Limit"] == "600"
