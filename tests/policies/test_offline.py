"""The offline runner: analyzer-shaped props, undecidable results, environment detection."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest
from pulumi_policy.proxy import UnknownValueError

from policies.framework import Level
from policies.offline import Outcome, engine_props
from tests.policies.cases_compute import repository
from tests.policies.cases_data import cluster
from tests.policies.helpers import DEV_TAGS, doc, run


def _unknown(value: str) -> pulumi.Output[str]:
    # An Output whose value is not known yet, as during `pulumi preview`.
    known = pulumi.Output.from_input(False).future()
    return pulumi.Output(set(), pulumi.Output.from_input(value).future(), known)  # type: ignore[arg-type]


def test_engine_props_have_analyzer_shape() -> None:
    props = engine_props({"port": 443, "tags": {"a": "b"}}, "aws:lb/listener:Listener")
    assert props["port"] == 443.0 and isinstance(props["port"], float)
    with pytest.raises(UnknownValueError):
        props["loadBalancerArn"]  # required but not recorded: computed, so unknown


def test_unknown_join_key_is_undecidable_not_a_violation() -> None:
    result = run(lambda: repository(safe=True, named=False), "CMP-05", production=True)
    assert [r.outcome for r in result.results] == [Outcome.UNDECIDABLE]
    assert result.findings[0].kind == "undecidable"
    assert "repo-lifecycle.repository" in result.findings[0].message
    assert result.exit_code == 0


def test_unknown_policy_document_is_undecidable() -> None:
    def program() -> None:
        aws.iam.RolePolicy(
            "p", role="worker", policy=_unknown(doc({"Effect": "Allow", "Action": "*"}))
        )

    result = run(program, "GOV-01", production=True)
    assert [r.outcome for r in result.results] == [Outcome.UNDECIDABLE]
    assert ".policy" in result.findings[0].message


def test_production_is_read_from_resource_tags() -> None:
    prod = run(lambda: cluster(safe=True, protect=False), "DATA-05")
    dev = run(lambda: aws.s3.Bucket("b", tags=DEV_TAGS) and None, "GOV-03")
    assert prod.production is True
    assert dev.production is False


def test_production_only_findings_are_advisory_outside_production() -> None:
    prod = run(lambda: cluster(safe=True, protect=False), "DATA-05", production=True)
    dev = run(lambda: cluster(safe=True, protect=False), "DATA-05", production=False)
    assert {f.level for f in prod.violations} == {Level.MANDATORY}
    assert {f.level for f in dev.violations} == {Level.ADVISORY}
    assert (prod.exit_code, dev.exit_code) == (1, 0)


def test_mandatory_rule_keeps_baseline_mandatory_in_dev() -> None:
    dev = run(lambda: cluster(safe=False), "DATA-04", production=False)
    levels = {f.message: f.level for f in dev.violations}
    assert levels["backup retention 1 days < 7"] is Level.MANDATORY
    assert levels["the final snapshot is skipped"] is Level.ADVISORY
