"""Reading Pulumi.yaml defaults and Pulumi.<stack>.yaml values the way the CLI merges them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agatha.errors import AgathaError

MOCK_SECRET_VALUE = "mock-secret-value"


class StackFileError(AgathaError):
    """A stack file is missing or malformed."""


@dataclass(frozen=True)
class StackSettings:
    """Merged config of one stack: engine-shaped strings plus which keys are secret."""

    stack: str
    project: str
    config: dict[str, str]
    secret_keys: tuple[str, ...]


def available_stacks(root: Path) -> list[str]:
    """Stack names that have a Pulumi.<stack>.yaml next to Pulumi.yaml."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def load_stack_settings(
    root: Path, stack: str, overrides: dict[str, Any] | None = None
) -> StackSettings:
    """Merge project defaults, the stack file and ``overrides`` (full ``ns:key`` names)."""
    project_doc = _read_yaml(root / "Pulumi.yaml")
    project = str(project_doc.get("name", "agatha"))
    stack_path = root / f"Pulumi.{stack}.yaml"
    if not stack_path.exists():
        known = ", ".join(available_stacks(root)) or "none"
        raise StackFileError(
            f"no stack file {stack_path.name} in {root}; known stacks: {known}. "
            f"Create it with `pulumi stack init {stack}` or pick a known stack."
        )
    merged: dict[str, Any] = {}
    for key, spec in (project_doc.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            merged[_full_key(project, key)] = spec["default"]
    secret_keys: list[str] = []
    for key, value in (_read_yaml(stack_path).get("config") or {}).items():
        full = _full_key(project, key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted values cannot be read offline; the program sees a stand-in.
            merged[full] = MOCK_SECRET_VALUE
            secret_keys.append(full)
        else:
            merged[full] = value
    merged.update(overrides or {})
    return StackSettings(
        stack=stack,
        project=project,
        config={k: _engine_string(v) for k, v in merged.items()},
        secret_keys=tuple(secret_keys),
    )


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _engine_string(value: Any) -> str:
    # The engine hands every config value to the program as a string; structured values as JSON.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise StackFileError(f"{path} not found: run agatha from the repository root") from exc
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path.name} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise StackFileError(f"{path.name} must be a YAML mapping at the top level")
    return loaded
