"""The Mermaid picture comes from the graph: layers, main resources, contracted links."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from agatha.plan.mermaid import render_mermaid
from agatha.plan.mock_runtime import evaluate_program


class _Data(pulumi.ComponentResource):
    def __init__(self) -> None:
        super().__init__("agatha:data:Data", "d", None, None)
        self.queue = aws.sqs.Queue("d-queue", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


class _Compute(pulumi.ComponentResource):
    def __init__(self, data: _Data) -> None:
        super().__init__("agatha:compute:Compute", "c", None, None)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            "c-role",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}),
            opts=child,
        )
        function = aws.lambda_.Function(
            "c-worker",
            role=role.arn,
            runtime="python3.11",
            handler="h.h",
            code=pulumi.AssetArchive({}),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"QUEUE_URL": data.queue.url}
            ),
            opts=child,
        )
        aws.iam.RolePolicy("c-policy", role=role.id, policy=data.queue.arn, opts=child)
        self.function = function
        self.register_outputs({})


def _program() -> None:
    _Compute(_Data())


def test_layers_become_subgraphs_with_their_main_resources() -> None:
    text = render_mermaid(evaluate_program(_program))
    assert text.startswith("flowchart LR")
    assert 'subgraph data["data"]' in text
    assert 'subgraph compute["compute"]' in text
    assert "SQS queue<br/>d-queue" in text
    assert "c-role" not in text  # plumbing is contracted away


def test_function_points_at_the_queue_it_uses() -> None:
    text = render_mermaid(evaluate_program(_program))
    ids = {
        label.split("<br/>")[1].rstrip('"]'): line.strip().split("[")[0]
        for line in text.splitlines()
        if "<br/>" in line
        for label in [line]
    }
    assert f"{ids['c-worker']} --> {ids['d-queue']}" in text
    assert f"{ids['d-queue']} --> {ids['c-worker']}" not in text
