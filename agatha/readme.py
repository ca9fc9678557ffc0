"""Generated README sections (architecture picture, cost estimate) and their staleness check.

Sections sit between ``<!-- BEGIN generated:NAME -->`` and ``<!-- END generated:NAME -->``;
`agatha docs readme --write` refreshes them and a test fails when they are stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from agatha.errors import AgathaError
from agatha.plan.graph import ResourceGraph

SECTION = re.compile(
    r"(<!-- BEGIN generated:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)"
    r"(<!-- END generated:(?P=name) -->)",
    re.DOTALL,
)


class ReadmeError(AgathaError):
    """README.md lacks a generated section marker."""


def render_sections(dev: ResourceGraph, prod: ResourceGraph) -> dict[str, str]:
    """The body of every generated section, from the two stacks' graphs."""
    from agatha.cost.estimate import estimate
    from agatha.cost.render import render_compare
    from agatha.cost.tables import load_inputs
    from agatha.plan.mermaid import render_mermaid

    reports = [estimate(g, load_inputs(g.stack)) for g in (dev, prod)]
    as_of = reports[0].as_of
    cost = (
        f"Monthly estimate in USD (us-east-1 list prices as of {as_of}; assumptions in "
        "`agatha/cost/usage/<stack>.yaml`; Cloudflare and Datadog plans not included):\n\n"
        f"```\n{render_compare(reports)}\n```\n"
    )
    return {
        "architecture": f"```mermaid\n{render_mermaid(prod)}```\n",
        "cost": cost,
    }


def refresh(text: str, sections: dict[str, str]) -> str:
    """``text`` with every generated section replaced by its new body."""
    found = {m.group("name") for m in SECTION.finditer(text)}
    missing = set(sections) - found
    if missing:
        raise ReadmeError(
            f"README.md has no marker for {sorted(missing)}: add "
            "'<!-- BEGIN generated:NAME -->' and '<!-- END generated:NAME -->' lines"
        )
    return SECTION.sub(
        lambda m: m.group(1) + sections.get(m.group("name"), m.group("body")) + m.group(4), text
    )


def update_readme(root: Path, *, write: bool) -> bool:
    """Regenerate README.md's sections; returns True when it was already current."""
    from agatha.plan.mock_runtime import evaluate_stack

    path = root / "README.md"
    current = path.read_text(encoding="utf-8")
    fresh = refresh(
        current,
        render_sections(evaluate_stack("dev", root=root), evaluate_stack("prod", root=root)),
    )
    if write and fresh != current:
        path.write_text(fresh, encoding="utf-8")
    return fresh == current
