"""Our own stacks pass every mandatory rule; dev's advisories are the accepted ones."""

from __future__ import annotations

import pytest

from agatha.plan.graph import ResourceGraph
from policies.offline import CheckResult, check_graph
from policies.registry import ACCEPTED_DEV_ADVISORIES, ALL_RULES, INERT_TYPES


@pytest.fixture(scope="module")
def dev(dev_graph: ResourceGraph) -> CheckResult:
    return check_graph(dev_graph, ALL_RULES)


@pytest.fixture(scope="module")
def prod(prod_graph: ResourceGraph) -> CheckResult:
    return check_graph(prod_graph, ALL_RULES)


def _describe(result: CheckResult) -> list[str]:
    return [f"{f.rule.id} {f.resource_name}: {f.message}" for f in result.mandatory_violations]


def test_prod_is_production_and_dev_is_not(dev: CheckResult, prod: CheckResult) -> None:
    assert (prod.production, dev.production) == (True, False)


def test_prod_passes_every_mandatory_rule(prod: CheckResult) -> None:
    assert _describe(prod) == []


def test_dev_passes_every_mandatory_rule(dev: CheckResult) -> None:
    assert _describe(dev) == []


def test_dev_advisories_are_all_accepted_in_the_docs(dev: CheckResult) -> None:
    advisory = {f.rule.id for f in dev.violations} - {f.rule.id for f in dev.mandatory_violations}
    assert advisory - set(ACCEPTED_DEV_ADVISORIES) == set()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_resource_type_is_covered_by_a_rule(
    stack: str, request: pytest.FixtureRequest
) -> None:
    graph: ResourceGraph = request.getfixturevalue(f"{stack}_graph")
    covered = {t for r in ALL_RULES for t in r.resource_types} | INERT_TYPES
    assert sorted({r.type for r in graph if r.custom} - covered) == []
