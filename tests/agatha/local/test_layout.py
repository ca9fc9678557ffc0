"""The local queue pair and secrets follow the data layer's planned definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agatha.local.layout import layout_for, load_layout
from agatha.plan.graph import ResourceGraph
from app.local_aws import DEFAULT_PREFIX, default_layout
from components.config.compute import ComputeConfig
from components.config.data import DataConfig
from components.data_policies import redrive_allow_policy, redrive_policy


def _as_dev(name: str) -> str:
    return name.replace("agatha-local", "agatha-dev", 1)


def test_local_queue_pair_matches_the_planned_dev_queues(
    repo_root: Path, dev_graph: ResourceGraph
) -> None:
    layout = load_layout(repo_root)
    planned = {r.name: r.inputs for r in dev_graph.of_type("aws:sqs/queue:Queue")}
    queue, dlq = planned[_as_dev(layout.queue_name)], planned[_as_dev(layout.dlq_name)]
    attributes = layout.queue_attributes
    assert int(attributes["VisibilityTimeout"]) == queue["visibilityTimeoutSeconds"]
    assert int(attributes["MessageRetentionPeriod"]) == queue["messageRetentionSeconds"]
    assert int(attributes["ReceiveMessageWaitTimeSeconds"]) == queue["receiveWaitTimeSeconds"]
    assert int(layout.dlq_attributes["MessageRetentionPeriod"]) == dlq["messageRetentionSeconds"]
    assert layout.max_receive_count == json.loads(queue["redrivePolicy"])["maxReceiveCount"]
    assert json.loads(layout.redrive_policy("arn:dlq")) == redrive_policy(
        dlq_arn="arn:dlq", max_receive_count=layout.max_receive_count
    )


def test_local_secrets_use_the_data_layer_secret_paths(
    repo_root: Path, dev_graph: ResourceGraph
) -> None:
    layout = load_layout(repo_root)
    planned = {r.inputs["name"] for r in dev_graph.of_type("aws:secretsmanager/secret:Secret")}
    assert _as_dev(layout.jwt_secret_name) in planned
    assert sorted(layout.provider_secret_names) == ["anthropic", "google", "openai", "together"]
    assert {_as_dev(n) for n in layout.provider_secret_names.values()} <= planned


def test_layout_follows_the_data_config_it_is_given() -> None:
    layout = layout_for(
        service="agatha",
        data=DataConfig.model_validate({"queueMaxReceiveCount": 2}),
        worker_timeout_seconds=30,
    )
    assert layout.prefix == "agatha-local"
    assert layout.max_receive_count == 2
    assert layout.visibility_timeout_seconds == 180
    assert layout.queue_attributes["VisibilityTimeout"] == "180"


def test_layout_falls_back_to_config_defaults_without_a_stack_file(tmp_path: Path) -> None:
    layout = load_layout(tmp_path)
    assert layout.queue_name == "agatha-local-jobs"
    assert layout.max_receive_count == DataConfig().queue_max_receive_count


def test_app_default_layout_equals_the_layout_local_up_builds_from_the_dev_stack(
    repo_root: Path, tmp_path: Path
) -> None:
    # The app cannot import components/ (Pulumi), so it keeps a copy: this is the drift check.
    built = load_layout(repo_root)
    assert built.prefix == DEFAULT_PREFIX
    assert default_layout() == built
    assert default_layout() == load_layout(tmp_path)


@pytest.mark.parametrize("service", ["agatha", "acme"])
def test_app_default_layout_equals_the_data_layer_layout_for_any_prefix(service: str) -> None:
    built = layout_for(
        service=service,
        data=DataConfig(),
        worker_timeout_seconds=ComputeConfig.model_fields["worker_timeout_seconds"].default,
    )
    assert default_layout(built.prefix) == built


def test_app_queue_policies_are_the_data_layer_documents_in_wire_format() -> None:
    layout = default_layout()
    dlq_arn = "arn:aws:sqs:us-east-1:000000000000:agatha-local-jobs-dlq"
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:agatha-local-jobs"
    assert json.loads(layout.redrive_policy(dlq_arn)) == redrive_policy(
        dlq_arn=dlq_arn, max_receive_count=layout.max_receive_count
    )
    assert set(json.loads(layout.redrive_policy(dlq_arn))) == {
        "deadLetterTargetArn",
        "maxReceiveCount",
    }
    assert json.loads(layout.redrive_allow_policy(queue_arn)) == redrive_allow_policy(
        source_queue_arn=queue_arn
    )
