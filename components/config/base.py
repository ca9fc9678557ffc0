"""Mechanics of the stack-config loader: sections, key metadata and one clear error.

Each layer declares a ``ConfigSection`` whose fields carry the Pulumi config key as their
alias, a description and a default. The same declarations generate the ``config:`` block
of ``Pulumi.yaml`` (see ``project_config_schema``), so documentation cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

NAMESPACE = "agatha"


class StackConfigError(ValueError):
    """A stack config key is missing or invalid; the message names key, file and fix."""

    def __init__(self, *, key: str, stack: str, problem: str, fix: str) -> None:
        self.key = key
        self.stack = stack
        message = (
            f"config key '{NAMESPACE}:{key}' in Pulumi.{stack}.yaml {problem}. "
            f"Fix: {fix} (for example: pulumi config set -s {stack} {key} <value>)."
        )
        super().__init__(message)


class ConfigSection(BaseModel):
    """Base for one layer's settings; field aliases are the Pulumi config keys."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")


def field_is_list(annotation: Any) -> bool:
    """True when a field holds an array (read with ``get_object``)."""
    origin = get_origin(annotation)
    if origin in (list, tuple):
        return True
    return any(field_is_list(arg) for arg in get_args(annotation))


def pulumi_type(annotation: Any) -> str:
    """The Pulumi.yaml ``type`` for a field annotation (string, integer, boolean, array)."""
    if field_is_list(annotation):
        return "array"
    candidates = [a for a in (get_args(annotation) or (annotation,)) if a is not type(None)]
    if bool in candidates:
        return "boolean"
    if int in candidates:
        return "integer"
    return "string"


def read_section(
    section: type[ConfigSection],
    *,
    stack: str,
    get_raw: Callable[[str], str | None],
) -> ConfigSection:
    """Read every declared key of ``section`` through ``get_raw`` and validate once."""
    raw: dict[str, Any] = {}
    for name, field in section.model_fields.items():
        key = field.alias or name
        value = get_raw(key)
        if value is None:
            continue
        if field_is_list(field.annotation):
            try:
                raw[key] = json.loads(value) if isinstance(value, str) else value
            except json.JSONDecodeError as exc:
                raise StackConfigError(
                    key=key,
                    stack=stack,
                    problem=f"is not a list ({exc.msg})",
                    fix="write it as a YAML list under the key",
                ) from exc
        else:
            raw[key] = value
    try:
        return section.model_validate(raw)
    except ValidationError as exc:
        raise _translate(exc, section=section, stack=stack) from exc


def _translate(
    exc: ValidationError, *, section: type[ConfigSection], stack: str
) -> StackConfigError:
    first = exc.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["loc"]:
        key = str(first["loc"][0])
    else:
        # Cross-field validators name their key first: "clientVpnEnabled: needs ...".
        key, _, message = message.partition(": ")
    field = next(
        (f for n, f in section.model_fields.items() if (f.alias or n) == key),
        None,
    )
    hint = field.description if field is not None and field.description else "see Pulumi.yaml"
    problem = "is missing" if first["type"] == "missing" else f"is invalid: {message}"
    return StackConfigError(key=key, stack=stack, problem=problem, fix=hint)


def project_config_schema(sections: list[type[ConfigSection]]) -> dict[str, dict[str, Any]]:
    """The ``config:`` block of Pulumi.yaml generated from the section declarations."""
    schema: dict[str, dict[str, Any]] = {}
    for section in sections:
        for name, field in section.model_fields.items():
            key = field.alias or name
            entry: dict[str, Any] = {
                "type": pulumi_type(field.annotation),
                "description": field.description or "",
            }
            if entry["type"] == "array":
                entry["items"] = {"type": "string"}
            if not field.is_required():
                default = field.get_default(call_default_factory=True)
                if isinstance(default, tuple):
                    entry["default"] = list(default)
                elif isinstance(default, float):
                    # Pulumi config has no number type: floats are declared as strings.
                    entry["default"] = str(default)
                elif default is not None:
                    entry["default"] = default
            schema[key] = entry
    return schema
