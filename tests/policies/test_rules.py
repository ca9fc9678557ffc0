"""Every rule has at least one violating and one compliant Pulumi program (mock runtime)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from policies.offline import Outcome
from policies.registry import ALL_RULES
from tests.policies import cases_compute, cases_data, cases_edge_network, cases_obs_gov
from tests.policies.helpers import Case, run

CASES: list[Case] = [
    *cases_edge_network.CASES,
    *cases_compute.CASES,
    *cases_data.CASES,
    *cases_obs_gov.CASES,
]


def _case_id(case: Case) -> str:
    return f"{case[0]}-{'compliant' if case[1] else 'violating'}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_rule_decides_program(case: Case) -> None:
    rule_id, compliant, program = case
    result = run(program, rule_id, production=True)
    (outcome,) = [r.outcome for r in result.results]
    if compliant:
        assert outcome in (Outcome.PASS, Outcome.NOT_APPLICABLE), [
            f.message for f in result.findings
        ]
    else:
        assert outcome is Outcome.VIOLATION, [r.reason for r in result.results]
        assert all(f.rule.id == rule_id for f in result.findings)


@pytest.mark.parametrize("compliant", [True, False])
def test_every_rule_has_a_case(compliant: bool) -> None:
    covered = {rule_id for rule_id, ok, _ in CASES if ok is compliant}
    assert {r.id for r in ALL_RULES} - covered == set()


def test_compliant_programs_really_create_resources() -> None:
    programs: list[Callable[[], object]] = [p for _, ok, p in CASES if ok]
    assert all(run(p).results for p in programs[:3])
