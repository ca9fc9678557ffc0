"""Evaluate a Pulumi program under the SDK's documented mock runtime and record its graph.

This is the offline stand-in for `pulumi preview`: the real SDKs build every resource,
the mocks answer the engine's calls with plausible cloud values, and a recording monitor
keeps what the engine would have received (type, name, parent, inputs, options).
Each evaluation runs in a fresh ``contextvars.Context`` so runs never share state.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import logging
import runpy
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks

from agatha.errors import AgathaError
from agatha.plan import mock_values
from agatha.plan.graph import SECRET_PLACEHOLDER, PlannedResource, ResourceGraph, plain
from agatha.plan.stack_files import load_stack_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


class ProgramError(AgathaError):
    """The Pulumi program raised while it was evaluated under mocks."""


class RecordingMocks(pulumi_mocks.Mocks):
    """Answers resource registrations and provider calls with deterministic values."""

    def __init__(self, *, stack: str, region: str) -> None:
        self.stack = stack
        self.region = region

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        return mock_values.resource_state(
            args.typ, args.name, dict(args.inputs), region=self.region, import_id=args.resource_id
        )

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        # (result, []) not (result, None): the mock monitor iterates the failures list.
        return mock_values.call_result(args.token, dict(args.args), region=self.region), []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor that also keeps each request's parent and options."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.records: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        from pulumi.runtime import rpc

        inputs = rpc.deserialize_properties(request.object)
        urn = self.make_urn(request.parent, request.type, request.name)
        state = self.resources[urn].state if urn in self.resources else {}
        self.records.append(
            PlannedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                inputs=plain(inputs),
                outputs=plain(state),
                custom=bool(request.custom),
                id=str(getattr(response, "id", "") or ""),
                protect=bool(request.protect),
                depends_on=tuple(request.dependencies),
                delete_before_replace=bool(request.deleteBeforeReplace),
                aliases=tuple(a.urn or a.spec.name for a in request.aliases),
            )
        )
        return response


def evaluate_stack(
    stack: str,
    *,
    root: Path = REPO_ROOT,
    program: Callable[[], None] | None = None,
    config_overrides: dict[str, Any] | None = None,
) -> ResourceGraph:
    """Run ``program`` (default: ``root/__main__.py``) for ``stack`` and return its graph."""
    settings = load_stack_settings(root, stack, config_overrides)
    region = settings.config.get("aws:region", "us-east-1")
    run = program or (lambda: _run_main(root))
    context = contextvars.Context()
    with _collector_paused():
        return context.run(
            _evaluate_in_context,
            run,
            stack=stack,
            project=settings.project,
            region=region,
            config=settings.config,
            secret_keys=list(settings.secret_keys),
        )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the program (and its SDKs) load.

    The provider SDKs define tens of thousands of classes at import; every few hundred
    allocations trigger a collection that walks them all again. Pausing the collector
    cuts about a quarter of a cold plan (bench/tooling_bench.py); reference counting
    still frees everything acyclic, and the collector runs once afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def evaluate_program(
    program: Callable[[], None],
    *,
    stack: str = "test",
    project: str = "agatha",
    config: dict[str, Any] | None = None,
    region: str = "us-east-1",
) -> ResourceGraph:
    """Run a small inline program (policy and component tests) with explicit config."""
    engine_config = {k: v if isinstance(v, str) else _json(v) for k, v in (config or {}).items()}
    return contextvars.Context().run(
        _evaluate_in_context,
        program,
        stack=stack,
        project=project,
        region=region,
        config=engine_config,
        secret_keys=[],
    )


def _json(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _evaluate_in_context(
    program: Callable[[], None],
    *,
    stack: str,
    project: str,
    region: str,
    config: dict[str, str],
    secret_keys: list[str],
) -> ResourceGraph:
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    logging.getLogger("pulumi").setLevel(logging.ERROR)
    _ensure_usable_event_loop()
    pulumi.runtime.set_all_config(config, secret_keys)
    monitor = RecordingMonitor(RecordingMocks(stack=stack, region=region))
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor
    )
    try:
        _sync_await(run_pulumi_func(lambda: _run_and_collect_exports(program, monitor)))
    except AgathaError:
        raise
    except Exception as exc:
        raise ProgramError(f"stack '{stack}' failed under the mock runtime: {exc}") from exc
    # Registrations arrive from a thread pool in no fixed order; sort so plans are diffable.
    resources = sorted(monitor.records, key=lambda r: r.urn)
    return ResourceGraph(
        stack=stack, project=project, resources=resources, exports=monitor.stack_outputs
    )


async def _run_and_collect_exports(program: Callable[[], None], monitor: RecordingMonitor) -> None:
    from pulumi.runtime.settings import get_root_resource
    from pulumi.runtime.stack import massage

    program()
    root = get_root_resource()
    # set_mocks registers the root stack's outputs before the program runs, so the
    # exports are resolved here, the way the engine would show them after `pulumi up`.
    outputs: dict[str, Any] = getattr(root, "outputs", {}) or {}
    for name, value in outputs.items():
        resolved = pulumi.Output.from_input(massage(value, []))
        is_secret = await resolved.is_secret()
        monitor.stack_outputs[name] = (
            SECRET_PLACEHOLDER if is_secret else plain(await resolved.future())
        )


def _ensure_usable_event_loop() -> None:
    """Give this thread an open event loop; parts of the SDK assume one exists.

    Async test runners and earlier ``asyncio.run`` calls leave none (or a closed one) behind.
    """
    try:
        asyncio.get_running_loop()
        return
    except RuntimeError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def _run_main(root: Path) -> None:
    runpy.run_path(str(root / "__main__.py"), run_name="__main__")
