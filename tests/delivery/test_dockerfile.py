"""The gateway image's properties, read from the Dockerfile (no Docker daemon here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from components.compute_containers import GATEWAY_MOUNTS, GATEWAY_USER, HEALTH_PATH
from components.network import GATEWAY_CONTAINER_PORT

BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|build-essential|make|clang|python3?-dev|libc6-dev)\b")


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [value for kw, value in self.instructions if kw == keyword]


def parse_stages(text: str) -> list[Stage]:
    """Stages of a Dockerfile, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, value = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.match(r"(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?", value, re.I)
            assert match, line
            stages.append(Stage(name=match[3] or str(len(stages)), base=match[2]))
            stages[-1].instructions.append(("PLATFORM", match[1] or ""))
        elif stages:
            stages[-1].instructions.append((keyword, value.strip()))
    return stages


@pytest.fixture(scope="module")
def stages(repo_root: Path) -> list[Stage]:
    return parse_stages((repo_root / "Dockerfile").read_text())


def test_image_is_multi_stage_and_runtime_copies_from_build(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    copies = stages[-1].values("COPY")
    assert any(c.startswith(f"--from={stages[0].name}") for c in copies)


def test_every_stage_targets_arm64(stages: list[Stage]) -> None:
    assert {stage.values("PLATFORM")[0] for stage in stages} == {"linux/arm64"}


def test_final_stage_runs_as_the_non_root_task_user(stages: list[Stage]) -> None:
    users = stages[-1].values("USER")
    assert users and users[-1].split(":")[0] == GATEWAY_USER != "0"


def test_final_stage_has_no_build_tools(stages: list[Stage]) -> None:
    runs = " ".join(stages[-1].values("RUN"))
    assert not BUILD_TOOLS.search(runs)
    assert "apt-get install" not in runs


def test_health_check_probes_the_liveness_path_on_the_container_port(stages: list[Stage]) -> None:
    (check,) = stages[-1].values("HEALTHCHECK")
    assert f"127.0.0.1:{GATEWAY_CONTAINER_PORT}{HEALTH_PATH}" in check


def test_serves_the_gateway_factory_on_the_container_port(stages: list[Stage]) -> None:
    (command,) = stages[-1].values("CMD")
    assert '"app.gateway:create_app", "--factory"' in command
    assert f'"--port", "{GATEWAY_CONTAINER_PORT}"' in command
    assert stages[-1].values("EXPOSE") == [str(GATEWAY_CONTAINER_PORT)]


def test_ecs_exec_paths_exist_owned_by_the_app_user(stages: list[Stage]) -> None:
    runs = " ".join(stages[-1].values("RUN"))
    for path in GATEWAY_MOUNTS.values():
        if path != "/tmp":
            assert "mkdir -p" in runs and path in runs.split("chown", 1)[1], path


def test_build_context_admits_only_the_app_and_the_lock(repo_root: Path) -> None:
    lines = [
        line.strip()
        for line in (repo_root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert {line for line in lines if line.startswith("!")} == {"!constraints.txt", "!app/"}
