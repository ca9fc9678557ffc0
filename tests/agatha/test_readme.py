"""README's generated sections (architecture picture, cost table) are current."""

from __future__ import annotations

from pathlib import Path

import pytest

from agatha.plan.graph import ResourceGraph
from agatha.readme import ReadmeError, refresh, render_sections

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_readme_generated_sections_are_current(
    dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    fresh = refresh(text, render_sections(dev_graph, prod_graph))
    assert fresh == text, "README.md is stale: run `agatha docs readme --write`"


def test_readme_picture_shows_all_six_layers(prod_graph: ResourceGraph) -> None:
    sections = render_sections(prod_graph, prod_graph)
    for layer in ("edge", "network", "compute", "data", "monitoring", "alerting"):
        assert f'subgraph {layer}["{layer}"]' in sections["architecture"]


def test_refresh_replaces_only_marked_sections() -> None:
    text = "intro\n<!-- BEGIN generated:cost -->\nold\n<!-- END generated:cost -->\nend\n"
    assert refresh(text, {"cost": "new\n"}) == text.replace("old\n", "new\n")


def test_refresh_names_a_missing_marker() -> None:
    with pytest.raises(ReadmeError, match="architecture"):
        refresh("no markers", {"architecture": "x"})
