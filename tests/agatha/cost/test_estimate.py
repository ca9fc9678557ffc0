"""Cost estimates: known resources priced from the table, unknown ones listed, never zero."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from agatha.cost.estimate import estimate
from agatha.cost.render import render_compare, render_text
from agatha.cost.tables import CostInputError, CostInputs, load_inputs
from agatha.plan.graph import ResourceGraph
from agatha.plan.mock_runtime import evaluate_program

PRICES = {
    "as_of": "2026-11-01",
    "hours_per_month": 730,
    "nat_gateway_hour": 0.045,
    "nat_gateway_gb": 0.045,
    "kms_key_month": 1.0,
    "elasticache_node_hour": {"cache.t4g.small": 0.032},
    "sqs_request_million": 0.40,
}


class _Layer(pulumi.ComponentResource):
    def __init__(self) -> None:
        super().__init__("agatha:data:Data", "d", None, None)
        child = pulumi.ResourceOptions(parent=self)
        aws.kms.Key("d-key", opts=child)
        aws.ec2.NatGateway("d-nat", subnet_id="subnet-1", opts=child)
        aws.elasticache.ReplicationGroup(
            "d-redis",
            description="r",
            node_type="cache.t4g.small",
            num_cache_clusters=2,
            opts=child,
        )
        aws.elasticache.ReplicationGroup(
            "d-big", description="r", node_type="cache.x9.huge", num_cache_clusters=1, opts=child
        )
        aws.sqs.Queue("d-queue", redrive_policy='{"maxReceiveCount": 5}', opts=child)
        aws.ec2.Vpc("d-vpc", cidr_block="10.0.0.0/16", opts=child)
        aws.backup.Vault("d-vault", opts=child)
        self.register_outputs({})


def _graph() -> ResourceGraph:
    return evaluate_program(_Layer)


def _inputs() -> CostInputs:
    usage = {"nat_gb_per_month": 100.0, "requests_per_month": 1_000_000.0}
    return CostInputs(prices=PRICES, usage=usage, usage_file=Path("usage.yaml"))


def test_known_resources_are_priced_from_the_table() -> None:
    report = estimate(_graph(), _inputs())
    items = {(line.resource, line.item): line.monthly_usd for line in report.lines}
    assert items[("d-key", "customer managed key")] == pytest.approx(1.0)
    assert items[("d-nat", "hours")] == pytest.approx(0.045 * 730)
    assert items[("d-nat", "data processed")] == pytest.approx(100 * 0.045)
    assert items[("d-redis", "2 x cache.t4g.small")] == pytest.approx(2 * 0.032 * 730)
    assert items[("d-queue", "requests")] == pytest.approx(3 * 0.40)


def test_unknown_types_and_sizes_are_listed_not_zero() -> None:
    report = estimate(_graph(), _inputs())
    not_priced = {name: reason for name, _, reason in report.not_priced}
    assert "d-vault" in not_priced
    assert "d-big" in not_priced
    assert "price table" in not_priced["d-big"]
    assert all(line.resource != "d-vault" for line in report.lines)


def test_free_types_are_neither_priced_nor_listed() -> None:
    report = estimate(_graph(), _inputs())
    assert "d-vpc" not in {n for n, _, _ in report.not_priced}
    assert "d-vpc" not in {line.resource for line in report.lines}


def test_lines_carry_the_owning_layer_and_total_adds_up() -> None:
    graph = _graph()
    report = estimate(graph, _inputs())
    assert graph.layer_of(graph.named("d-key")) == "data"
    assert report.by_layer() == {"data": report.total}
    assert report.total == pytest.approx(sum(line.monthly_usd for line in report.lines), abs=0.01)


def test_text_rendering_shows_total_not_priced_and_assumptions() -> None:
    text = render_text(estimate(_graph(), _inputs()))
    assert "TOTAL" in text
    assert "Not priced" in text
    assert "nat_gb_per_month: 100" in text


def test_compare_puts_stacks_side_by_side() -> None:
    first = estimate(_graph(), _inputs())
    second = estimate(_graph(), _inputs())
    second.stack = "prod"
    table = render_compare([first, second])
    assert table.splitlines()[0].split() == ["layer", "test", "prod"]


def test_missing_usage_file_names_the_file_to_create(tmp_path: Path) -> None:
    with pytest.raises(CostInputError, match=r"create .*qa\.yaml"):
        load_inputs("qa", usage_dir=tmp_path)


def test_missing_usage_key_is_an_error_not_zero() -> None:
    inputs = CostInputs(prices=PRICES, usage={}, usage_file=Path("u.yaml"))
    with pytest.raises(CostInputError, match="nat_gb_per_month"):
        estimate(_graph(), inputs)
