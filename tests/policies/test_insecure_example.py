"""The deliberately insecure example fails with each expected rule id."""

from __future__ import annotations

import pytest

from policies.examples.insecure import EXPECTED_RULE_IDS, program
from policies.offline import CheckResult
from tests.policies.helpers import run


@pytest.fixture(scope="module")
def result() -> CheckResult:
    return run(program)


@pytest.mark.parametrize("mistake", sorted(EXPECTED_RULE_IDS))
def test_insecure_program_fails_expected_rule(result: CheckResult, mistake: str) -> None:
    assert EXPECTED_RULE_IDS[mistake] <= result.rule_ids()


def test_insecure_program_fails_mandatory_and_would_exit_1(result: CheckResult) -> None:
    mandatory = {f.rule.id for f in result.mandatory_violations}
    assert set().union(*EXPECTED_RULE_IDS.values()) <= mandatory
    assert result.exit_code == 1


def test_untagged_insecure_program_is_treated_as_production(result: CheckResult) -> None:
    # No resource says production=false, so the pack fails closed to the strict level.
    assert result.production is True
