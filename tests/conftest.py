"""Shared fixtures: the offline plan of each stack, evaluated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from agatha.plan.graph import ResourceGraph

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def dev_graph() -> ResourceGraph:
    from agatha.plan.mock_runtime import evaluate_stack

    return evaluate_stack("dev", root=REPO_ROOT)


@pytest.fixture(scope="session")
def prod_graph() -> ResourceGraph:
    from agatha.plan.mock_runtime import evaluate_stack

    return evaluate_stack("prod", root=REPO_ROOT)
