"""The offline plan machinery records what the engine would receive."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from agatha.plan.graph import SECRET_PLACEHOLDER
from agatha.plan.mock_runtime import ProgramError, evaluate_program, evaluate_stack
from agatha.plan.stack_files import StackFileError


class _Pair(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("agatha:test:Pair", name, None, None)
        queue = aws.sqs.Queue(
            f"{name}-queue",
            name=f"{name}-q",
            delay_seconds=5,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.url = queue.url
        self.register_outputs({"url": queue.url})


def _program() -> None:
    pair = _Pair("p")
    pulumi.export("url", pair.url)
    pulumi.export("token", pulumi.Output.secret("s3cr3t"))


def test_records_type_name_parent_inputs_and_protect() -> None:
    graph = evaluate_program(_program)
    component = graph.named("p")
    queue = graph.named("p-queue")
    assert component.type == "agatha:test:Pair"
    assert not component.custom
    assert queue.parent == component.urn
    assert queue.protect is True
    assert queue.inputs["delaySeconds"] == 5
    assert queue.inputs["name"] == "p-q"


def test_exports_are_resolved_and_secrets_masked() -> None:
    graph = evaluate_program(_program)
    assert graph.exports["url"].endswith("/p-q")
    assert graph.exports["token"] == SECRET_PLACEHOLDER


def test_runs_are_isolated_from_each_other() -> None:
    first = evaluate_program(_program)
    second = evaluate_program(_program)
    assert [r.urn for r in first] == [r.urn for r in second]
    assert len(second) == 2


def test_program_errors_are_reported_with_the_stack() -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(ProgramError, match=r"stack 'test' failed.*boom"):
        evaluate_program(broken)


def test_unknown_stack_names_known_stacks(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: agatha\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(StackFileError, match="known stacks: dev"):
        evaluate_stack("qa", root=tmp_path)


def test_evaluates_after_async_code_left_no_event_loop() -> None:
    import asyncio

    asyncio.set_event_loop(None)
    assert len(evaluate_program(_program)) == 2
    closed = asyncio.new_event_loop()
    closed.close()
    asyncio.set_event_loop(closed)
    assert len(evaluate_program(_program)) == 2
