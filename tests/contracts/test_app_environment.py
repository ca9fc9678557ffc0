"""Infrastructure -> app: every setting the app needs in the cloud is what compute provides."""

from __future__ import annotations

import json

import pytest

from agatha.plan.graph import ResourceGraph
from app.settings import CLOUD_PROVIDED_ENV
from components.compute_env import APP_ENV_PROVIDED, LAMBDA_RESERVED_ENV


def test_app_and_compute_agree_on_the_cloud_environment_names() -> None:
    # AWS_REGION is set by both runtimes (Fargate and Lambda); the app does not require it
    # from us, ECS gets it explicitly anyway and Lambda refuses it.
    assert CLOUD_PROVIDED_ENV == APP_ENV_PROVIDED - LAMBDA_RESERVED_ENV


def _container_env(graph: ResourceGraph) -> set[str]:
    names: set[str] = set()
    for task in graph.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        for container in json.loads(task.inputs["containerDefinitions"]):
            if container["name"] == "gateway":
                names |= {e["name"] for e in container.get("environment", [])}
    return names


def _lambda_env(graph: ResourceGraph) -> set[str]:
    (function,) = graph.of_type("aws:lambda/function:Function")
    return set(function.inputs["environment"]["variables"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deployed_gateway_receives_every_cloud_setting(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = dev_graph if stack == "dev" else prod_graph
    assert _container_env(graph) >= CLOUD_PROVIDED_ENV


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deployed_worker_receives_every_cloud_setting(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = dev_graph if stack == "dev" else prod_graph
    # Lambda sets AWS_REGION itself and refuses functions that set it.
    assert _lambda_env(graph) >= CLOUD_PROVIDED_ENV
