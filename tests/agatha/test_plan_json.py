"""`agatha plan --format json` prints every input, assets and archives included."""

from __future__ import annotations

import json

from agatha.plan.mock_runtime import evaluate_program
from agatha.plan.render import render_json


def _function_with_code() -> None:
    import pulumi
    import pulumi_aws as aws

    aws.lambda_.Function(
        "worker",
        role="arn:aws:iam::123456789012:role/worker",
        runtime="python3.12",
        handler="app.worker.lambda_handler.handler",
        code=pulumi.AssetArchive(
            {
                "app": pulumi.FileArchive("./app"),
                "VERSION": pulumi.StringAsset("1.2.3"),
                "remote": pulumi.RemoteAsset("https://example.invalid/x"),
            }
        ),
    )


def test_json_plan_renders_asset_archives() -> None:
    graph = evaluate_program(_function_with_code)
    document = json.loads(render_json(graph))
    (function,) = [r for r in document["resources"] if r["type"] == "aws:lambda/function:Function"]
    assert function["inputs"]["code"] == {
        "assetArchive": {
            "app": {"fileArchive": "./app"},
            "VERSION": {"stringAsset": "<5 characters>"},
            "remote": {"remoteAsset": "https://example.invalid/x"},
        }
    }
