"""What the provider SDKs say about a resource type: taggable, required inputs.

Looked up from the installed SDK's ``<Type>Args`` class, so the pack follows the
provider version instead of a hand-kept list.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from types import ModuleType


def _module(package: str, module: str) -> ModuleType | None:
    base = f"pulumi_{package.replace('-', '_')}"
    candidates = [base] if module == "index" else [f"{base}.{module}", f"{base}.{module}_"]
    for name in candidates:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


@functools.cache
def args_class(type_token: str) -> type | None:
    """The SDK's ``<Type>Args`` class for ``pkg:module/x:Type`` (None when unknown)."""
    try:
        package, path, class_name = type_token.split(":")
    except ValueError:
        return None
    module = _module(package, path.split("/")[0])
    found = getattr(module, f"{class_name}Args", None) if module else None
    return found if inspect.isclass(found) else None


def _engine_name(cls: type, parameter: str) -> str:
    getter = getattr(cls, parameter, None)
    fget = getattr(getter, "fget", None)
    name = getattr(fget, "_pulumi_name", None)
    if isinstance(name, str):
        return name
    head, *rest = parameter.split("_")
    return head + "".join(part.title() for part in rest)


@functools.cache
def required_inputs(type_token: str) -> tuple[str, ...]:
    """Engine (camelCase) names of the inputs a resource of this type must have."""
    cls = args_class(type_token)
    if cls is None:
        return ()
    parameters = inspect.signature(cls).parameters.values()
    return tuple(
        _engine_name(cls, p.name)
        for p in parameters
        if p.name not in ("self", "__self__")
        and p.default is inspect.Parameter.empty
        and p.kind is inspect.Parameter.KEYWORD_ONLY
    )


@functools.cache
def is_taggable(type_token: str) -> bool:
    """AWS resource types whose Args accept a ``tags`` map."""
    if not type_token.startswith("aws:"):
        return False
    cls = args_class(type_token)
    return cls is not None and "tags" in inspect.signature(cls).parameters
