"""Pure analysis code: profile classification, drill audit, bad-input battery, LiteLLM config."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from bench.bad_inputs import cases
from bench.drills import Row, audit
from bench.litellm_env import new_master_key, write_config
from bench.profile_gateway import OTHER, breakdown, classify
from bench.report import drills_table


def test_classify_charges_library_frames_to_their_operation() -> None:
    redis = (
        "run (asyncio/runners.py:1);check (app/ratelimit/redis.py:75);execute (redis/client.py:9)"
    )
    json_in_botocore = ";".join(
        ("send (app/queue/sender.py:60)", "ser (botocore/serialize.py:1)", "dumps (json/x.py:1)")
    )
    assert classify(redis) == "rate limit (Redis)"
    assert classify(json_in_botocore) == "enqueue (SQS batch)"
    assert classify("run (asyncio/runners.py:118)") == OTHER


def test_breakdown_splits_cpu_in_proportion_to_samples() -> None:
    raw = "a (jwt/api_jwt.py:1) 3\nb (sqlalchemy/engine/base.py:1) 1\n"
    rows = {r["operation"]: r for r in breakdown(raw, cpu_ms_per_request=4.0)}
    assert rows["auth (JWT / API key)"]["cpu_ms_per_request"] == 3.0
    assert rows["database driver (SQLAlchemy/asyncpg)"]["share"] == 0.25


def test_audit_counts_lost_failed_and_duplicates() -> None:
    records: list[dict[str, Any]] = [
        {"status": 202, "request_id": "a", "retry_after": "2", "error": None},
        {"status": 202, "request_id": "b", "retry_after": "2", "error": None},
        {"status": 202, "request_id": "c", "retry_after": "2", "error": None},
        {"status": 202, "request_id": "d", "retry_after": "2", "error": None},
        {"status": 503, "request_id": None, "retry_after": None, "error": None},
        {"status": 0, "request_id": None, "retry_after": None, "error": "timeout"},
    ]
    rows = {
        "a": Row("completed", None, archived=True),
        "b": Row("failed", "provider_error"),
        "d": Row("completed", None, archived=False),
    }
    provider = {"duplicate_successes": 1, "calls_for_prefix": 4}
    result = audit(records, rows, provider)
    assert result["accepted"] == 4
    assert result["completed"] == 2
    assert result["completed_not_archived"] == 1  # "d"
    assert result["failed"] == {"provider_error": 1}
    assert result["lost"] == 1  # "c" has no row
    assert result["duplicated_provider_calls"] == 1
    assert result["refused_without_retry_after"] == 1
    assert result["client_timeouts (hangs)"] == 1


@dataclass
class FakeStack:
    tenant_id: str
    token: str


def test_bad_input_battery_expects_4xx_except_data_that_is_just_text() -> None:
    token = jwt.encode(
        {"exp": int(time.time()) + 60}, "k" * 40, algorithm="HS256", headers={"kid": "k1"}
    )
    battery = cases(FakeStack("t_1", token), "req_other")  # type: ignore[arg-type]
    names = {c.name for c in battery}
    assert {"alg none", "expired token", "malformed JSON", "other tenant's id (GET)"} <= names
    accepted = [c for c in battery if 202 in c.expected]
    assert all("accepted" in c.name for c in accepted)
    assert all(min(c.expected) >= 400 for c in battery if c not in accepted)


def test_litellm_config_never_uses_the_refused_master_key(tmp_path: Path) -> None:
    key = new_master_key()
    assert key != "sk-1234" and key.startswith("sk-bench-")
    text = write_config(
        tmp_path / "c.yaml", upstream_url="http://127.0.0.1:1", master_key=key, model="m"
    ).read_text()
    assert f"master_key: {key}" in text
    assert "api_base: http://127.0.0.1:1/v1" in text


def test_drill_table_shows_what_was_not_terminal() -> None:
    drill = {
        "drill": "worker-kill",
        "detail": "killed",
        "accepted": 3,
        "completed": 2,
        "failed": {},
        "lost": 1,
        "not_terminal": {"processing": 1},
        "duplicated_provider_calls": 0,
        "client_statuses": {"202": 3},
        "refused_without_retry_after": 0,
        "client_timeouts (hangs)": 0,
    }
    table = drills_table({"drills": [drill]})
    assert "| worker-kill | killed | 3 | 2 | - | 1 (processing: 1 at the end" in table
