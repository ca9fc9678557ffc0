"""The resource graph a program produces: what `agatha plan` prints and policies check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SECRET_PLACEHOLDER = "[secret]"


@dataclass(frozen=True)
class PlannedResource:
    """One registered resource with its engine-shaped (camelCase) inputs."""

    urn: str
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    custom: bool
    id: str = ""
    protect: bool = False
    depends_on: tuple[str, ...] = ()
    delete_before_replace: bool = False
    aliases: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The JSON object `agatha plan --format json` prints for this resource."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "dependsOn": list(self.depends_on),
            "inputs": self.inputs,
        }


@dataclass
class ResourceGraph:
    """All resources of one evaluated stack, in registration order, plus its exports."""

    stack: str
    project: str
    resources: list[PlannedResource] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[PlannedResource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def of_type(self, type_token: str) -> list[PlannedResource]:
        """Resources whose type token equals ``type_token``."""
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> PlannedResource:
        """The single resource with logical name ``name`` (KeyError if absent)."""
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"expected one resource named {name!r}, found {len(matches)}")
        return matches[0]

    def by_urn(self, urn: str) -> PlannedResource:
        """The resource with ``urn`` (KeyError if absent)."""
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def layer_of(self, resource: PlannedResource) -> str:
        """The layer owning ``resource``: its nearest ``agatha:<layer>:*`` component ancestor."""
        parent = resource.parent
        while parent:
            try:
                owner = self.by_urn(parent)
            except KeyError:
                break
            if owner.type.startswith("agatha:"):
                return owner.type.split(":")[1]
            parent = owner.parent
        return "other"

    def children_of(self, urn: str) -> list[PlannedResource]:
        """Direct children of the resource ``urn``."""
        return [r for r in self.resources if r.parent == urn]

    def to_json(self) -> dict[str, Any]:
        """The whole graph as the JSON document `agatha plan --format json` prints."""
        return {
            "stack": self.stack,
            "project": self.project,
            "resourceCount": len(self.resources),
            "resources": [r.as_json() for r in self.resources],
            "exports": self.exports,
        }


def plain(value: Any) -> Any:
    """Engine values made printable: secrets masked, integral floats back to ints."""
    if isinstance(value, dict):
        if _is_secret(value):
            return SECRET_PLACEHOLDER
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def json_default(value: Any) -> Any:
    """``json.dumps`` hook: assets and archives (a Lambda's code) as what they point at."""
    import pulumi

    if type(value).__module__ != "pulumi.asset":
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    if isinstance(value, pulumi.AssetArchive):
        return {"assetArchive": {name: json_default(item) for name, item in value.assets.items()}}
    if isinstance(value, pulumi.FileArchive | pulumi.FileAsset):
        return {type(value).__name__[0].lower() + type(value).__name__[1:]: str(value.path)}
    if isinstance(value, pulumi.RemoteArchive | pulumi.RemoteAsset):
        return {type(value).__name__[0].lower() + type(value).__name__[1:]: value.uri}
    if isinstance(value, pulumi.StringAsset):
        return {"stringAsset": f"<{len(value.text)} characters>"}
    return repr(value)


def _is_secret(value: dict[str, Any]) -> bool:
    from pulumi.runtime import rpc

    return value.get(rpc._special_sig_key) == rpc._special_secret_sig
