"""Infrastructure -> ops CLI: what `agatha` reads is what the stack writes."""

from __future__ import annotations

import pytest

from agatha.plan.graph import ResourceGraph
from components.naming import ssm_prefix
from components.published_outputs import PUBLISHED_KEYS
from runbooks.stack_outputs import StackOutputs


def _parameters(graph: ResourceGraph) -> dict[str, str]:
    return {
        p.inputs["name"]: p.inputs["value"] for p in graph.of_type("aws:ssm/parameter:Parameter")
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_writes_every_key_the_cli_can_read(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = dev_graph if stack == "dev" else prod_graph
    reader = StackOutputs(aws=None, stack=stack)  # type: ignore[arg-type]  # names only
    written = _parameters(graph)
    for key in PUBLISHED_KEYS:
        name = reader.parameter_name(key)
        assert name in written, f"stack {stack} does not publish {name}"
        assert written[name], f"{name} is empty"


def test_published_parameters_live_under_one_prefix_per_stack(dev_graph: ResourceGraph) -> None:
    prefix = ssm_prefix(service="agatha", stack="dev")
    published = [n for n in _parameters(dev_graph) if n.startswith(prefix)]
    assert len(published) == len(PUBLISHED_KEYS)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_exports_include_published_keys_and_hold_no_secrets(
    stack: str, dev_graph: ResourceGraph, prod_graph: ResourceGraph
) -> None:
    graph = dev_graph if stack == "dev" else prod_graph
    assert set(PUBLISHED_KEYS) <= set(graph.exports)
    assert "[secret]" not in graph.exports.values()
