"""The local queue pair and secrets follow the data layer's planned definitions."""

from __future__ import annotations

import json
from pathlib import Path

from agatha.local.layout import layout_for, load_layout
from agatha.plan.graph import ResourceGraph
from components.config.data import DataConfig


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
    assert json.loads(layout.redrive_policy("arn:dlq")) == {
        "deadLetterTargetArn": "arn:dlq",
        "maxReceiveCount": layout.max_receive_count,
    }


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
