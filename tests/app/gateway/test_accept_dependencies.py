"""The inference routes' dependencies are all async: no threadpool hop per request."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.gateway.routers.inference import router


def _calls(dependant: Dependant) -> list[Any]:
    calls: list[Any] = []
    for sub in dependant.dependencies:
        calls.append(sub.call)
        calls += _calls(sub)
    return calls


def _is_async(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 - HTTPBearer and friends are instances
    )


@pytest.mark.parametrize(
    "route",
    [r for r in router.routes if isinstance(r, APIRoute)],
    ids=lambda r: f"{sorted(r.methods)[0]} {r.path}",
)
def test_inference_route_runs_no_sync_dependency(route: APIRoute) -> None:
    calls = _calls(route.dependant)
    assert calls, "the route should declare its dependencies"
    assert [call for call in calls if not _is_async(call)] == []
    assert inspect.iscoroutinefunction(route.dependant.call)
