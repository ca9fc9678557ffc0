"""Reading engine-shaped properties: camelCase keys, numbers as floats, JSON documents.

Props arrive wrapped in the SDK's unknown-checking proxies (Mapping / Sequence, not dict /
list), so every helper here works on the abstract types and lets ``UnknownValueError``
propagate: the caller (``Reporter.deciding``) turns it into an undecidable result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

REQUIRED_TAGS = ("environment", "service", "owner", "cost-center")
WORLD_CIDRS = frozenset({"0.0.0.0/0", "::/0"})


def get(props: Any, *path: str | int, default: Any = None) -> Any:
    """The value at ``path`` inside nested props, or ``default`` when any step is missing."""
    current = props
    for step in path:
        if isinstance(step, int):
            if not is_list(current) or step >= len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in current:
                return default
            current = current[step]
        if current is None:
            return default
    return current


def is_unknown(props: Any, key: str) -> bool:
    """Whether ``props[key]`` is present but unknown (preview's sentinel)."""
    try:
        props[key]
    except UnknownValueError:
        return True
    except (KeyError, TypeError):
        return False
    return False


def is_list(value: Any) -> bool:
    """A list-like value (a proxied list), not a string."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: None is empty, a scalar is a one-element list."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def truthy(value: Any) -> bool:
    """True for ``True`` and the string ``"true"`` (engine values may be either)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def num(value: Any) -> float | None:
    """A number from an engine value (floats, ints or numeric strings)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def show(value: Any) -> str:
    """A value for a message: integral floats without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def tags(props: Any) -> Mapping[str, Any]:
    """The resource's ``tags`` map (empty when unset)."""
    value = get(props, "tags", default={})
    return value if isinstance(value, Mapping) else {}


def json_doc(value: Any, *, where: str = "document") -> Any:
    """Parse a JSON policy/definition string (already-parsed mappings pass through).

    Raises ``UnknownValueError`` for the preview sentinel so the caller reports undecidable.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value == UNKNOWN_STRING_VALUE:
            raise UnknownValueError(UNKNOWN_STRING_VALUE, [where])
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM-style policy document."""
    body = get(document, "Statement", default=[])
    return [s for s in as_list(body) if isinstance(s, Mapping)]


def strings(value: Any) -> list[str]:
    """A policy field that may be one string or a list of strings."""
    return [str(v) for v in as_list(value)]


def principals(statement: Mapping[str, Any]) -> list[str]:
    """Every principal of a statement, flattened ("*" when the principal is bare)."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    found: list[str] = []
    for value in principal.values() if isinstance(principal, Mapping) else []:
        found.extend(strings(value))
    return found


def is_public_allow(statement: Mapping[str, Any]) -> bool:
    """An Allow statement for everyone without a narrowing condition."""
    return (
        statement.get("Effect") == "Allow"
        and "*" in principals(statement)
        and not statement.get("Condition")
    )


def denies_insecure_transport(document: Any) -> bool:
    """Whether a resource policy denies requests where aws:SecureTransport is false."""
    for statement in statements(document):
        if statement.get("Effect") != "Deny":
            continue
        condition = get(statement, "Condition", "Bool", default={})
        value = condition.get("aws:SecureTransport") if isinstance(condition, Mapping) else None
        if str(value).lower() == "false":
            return True
    return False
