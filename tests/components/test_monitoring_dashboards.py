"""Grafana dashboard and runbook files: they query real metrics and cover every alarm."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from app.gateway.metrics import GatewayMetrics

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = REPO_ROOT / "dashboards" / "grafana" / "agatha-platform.json"
RUNBOOKS = REPO_ROOT / "runbooks" / "alarms"
CLI_COMMANDS = re.compile(r"`agatha ([a-z-]+)")
KNOWN_COMMANDS = {"status", "queue", "failover", "deploy", "rotate", "audit"}


def _exported_metric_names() -> set[str]:
    registry = CollectorRegistry()
    GatewayMetrics(registry=registry)
    # Labelled series have no samples until used: derive names from the family types.
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    names: set[str] = set()
    for family in registry.collect():
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
    return names


def test_grafana_dashboard_queries_only_metrics_the_gateway_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"] if "expr" in t]
    assert exprs
    used = {m for e in exprs for m in re.findall(r"\b(agatha_[a-z_]+)", e)}
    assert used, "the dashboard queries no gateway metric"
    assert used <= _exported_metric_names(), used - _exported_metric_names()


def test_grafana_dashboard_uses_datasource_variables_not_fixed_uids() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"prometheus", "cloudwatch", "stack"} <= variables
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] in {"${prometheus}", "${cloudwatch}"}


def test_dashboards_readme_says_how_to_load_the_dashboard() -> None:
    readme = (REPO_ROOT / "dashboards" / "README.md").read_text()
    assert "grafana/agatha-platform.json" in readme
    assert "Import" in readme


def test_every_runbook_has_symptom_checks_and_actions_using_real_commands() -> None:
    pages = [p for p in RUNBOOKS.glob("*.md") if p.name != "README.md"]
    assert len(pages) >= 10
    for page in pages:
        text = page.read_text()
        for heading in ("## Symptom", "## Checks", "## Actions"):
            assert heading in text, f"{page.name} lacks {heading}"
        commands = set(CLI_COMMANDS.findall(text))
        assert commands, f"{page.name} uses no ops CLI command"
        assert commands <= KNOWN_COMMANDS, f"{page.name}: {commands - KNOWN_COMMANDS}"


def test_runbook_index_lists_every_runbook() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for page in RUNBOOKS.glob("*.md"):
        if page.name != "README.md":
            assert f"({page.name})" in index, page.name


def test_known_commands_exist_in_the_ops_cli() -> None:
    commands = {p.stem for p in (REPO_ROOT / "runbooks" / "commands").glob("*.py")}
    assert commands >= KNOWN_COMMANDS
