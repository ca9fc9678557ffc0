"""The gateway's and worker's dependency lists: pinned as in constraints.txt, minimal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]+\])?==(\S+)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            match = PIN.match(line)
            assert match, f"{path.name}: {line!r} is not an exact pin"
            pins[_canonical(match[1])] = match[3]
    return pins


@pytest.mark.parametrize("name", ["requirements-worker.txt", "requirements-gateway.txt"])
def test_pins_match_the_repository_lock(repo_root: Path, name: str) -> None:
    lock = _pins(repo_root / "constraints.txt")
    pins = _pins(repo_root / "app" / name)
    assert pins
    assert {n: v for n, v in pins.items() if lock.get(n) != v} == {}


def test_worker_leaves_out_gateway_and_infrastructure_packages(repo_root: Path) -> None:
    pins = _pins(repo_root / "app" / "requirements-worker.txt")
    assert not {"fastapi", "uvicorn", "moto", "pulumi", "pulumi-aws"} & set(pins)
    assert {"aws-lambda-powertools", "asyncpg", "sqlalchemy"} <= set(pins)


def test_gateway_leaves_out_provider_sdks(repo_root: Path) -> None:
    pins = _pins(repo_root / "app" / "requirements-gateway.txt")
    assert not {"openai", "anthropic", "together", "google-genai", "moto"} & set(pins)
    assert {"fastapi", "uvicorn"} <= set(pins)
