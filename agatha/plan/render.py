"""Renderings of a resource graph: a `pulumi preview`-like tree and JSON."""

from __future__ import annotations

import json

from agatha.plan.graph import PlannedResource, ResourceGraph, json_default


def render_text(graph: ResourceGraph) -> str:
    """A tree of type and name under their parents, like `pulumi preview`."""
    stack_urn = f"urn:pulumi:{graph.stack}::{graph.project}::pulumi:pulumi:Stack::"
    lines = [
        f"     Type{' ' * 52}Name",
        f" +   pulumi:pulumi:Stack{' ' * 37}{graph.project}-{graph.stack}",
    ]
    children: dict[str | None, list[PlannedResource]] = {}
    for resource in graph:
        parent = resource.parent
        if parent is None or parent.startswith(stack_urn):
            parent = None
        children.setdefault(parent, []).append(resource)

    def walk(parent: str | None, depth: int) -> None:
        for resource in children.get(parent, []):
            indent = "   " * depth + "├─ "
            marker = " 🔒" if resource.protect else ""
            label = f"{indent}{resource.type}"
            lines.append(f" +   {label:<56}{resource.name}{marker}")
            walk(resource.urn, depth + 1)

    walk(None, 0)
    counts: dict[str, int] = {}
    for resource in graph:
        if resource.custom:
            counts[resource.type.split(":")[0]] = counts.get(resource.type.split(":")[0], 0) + 1
    summary = ", ".join(f"{n} {p}" for p, n in sorted(counts.items()))
    lines.append("")
    lines.append(f"Resources: {len(graph)} to create ({summary}); exports: {len(graph.exports)}")
    return "\n".join(lines)


def render_json(graph: ResourceGraph) -> str:
    """The graph as indented JSON (one object per resource)."""
    return json.dumps(graph.to_json(), indent=2, sort_keys=False, default=json_default)
