"""``agatha local up``: gateway and worker in one process, one asyncio loop.

One process (not children) so Ctrl-C/SIGTERM stops everything at once and nothing can be
left behind: moto runs in a thread, uvicorn serves the gateway app from ``create_app``,
the worker's ``Poller`` long-polls the queue beside it. Shutdown runs in reverse: the
worker drains first, then the gateway, the database engine and the emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agatha.local.errors import AlreadyRunning, DemoFailed, StartupFailed
from agatha.local.state import (
    DATABASE_FILE,
    DEMO_KEY_FILE,
    JWT_KEYS_FILE,
    RunRecord,
    process_boot_id,
    read_run_record,
    remove_run_record,
    write_run_record,
)
from app.settings import Settings

if TYPE_CHECKING:
    from agatha.client.aio import AsyncAgathaClient
    from app.notify import Notifier

GATEWAY_START_TIMEOUT = 60.0
GATEWAY_GRACEFUL_SECONDS = 5
LOCAL_LOG_LEVEL = "WARNING"
# A shorter long-poll than the cloud's 20 s: Ctrl-C waits for the receive in flight.
LOCAL_POLL_WAIT_SECONDS = 5

Echo = Callable[[str], None]


@dataclass(frozen=True)
class UpOptions:
    """What ``agatha local up`` was asked to do."""

    state_dir: Path
    root: Path
    port: int = 8080
    once: bool = False
    worker: bool = True
    demo_timeout: float = 60.0


def run_up(options: UpOptions, echo: Echo) -> None:
    """Run the platform until the demo finished (``once``) or SIGINT/SIGTERM arrives."""
    asyncio.run(_serve(options, echo))


def local_settings(state_dir: Path) -> Settings:
    """The app's settings from the environment, with the local folder and a quiet log."""
    settings = Settings()
    update: dict[str, Any] = {"local_data_dir": state_dir}
    if "log_level" not in settings.model_fields_set:
        update["log_level"] = LOCAL_LOG_LEVEL
    return settings.model_copy(update=update)


def refuse_if_running(state_dir: Path) -> None:
    record = read_run_record(state_dir)
    if record is not None and record.alive:
        raise AlreadyRunning(
            f"a local platform already runs at {record.url} (pid {record.pid}) with state in "
            f"{state_dir}; stop it with `agatha local down` or use --state-dir"
        )


async def _serve(options: UpOptions, echo: Echo) -> None:
    from agatha.local.emulator import local_aws
    from agatha.local.layout import load_layout

    stop = asyncio.Event()
    with _stop_signals(stop):
        refuse_if_running(options.state_dir)
        options.state_dir.mkdir(parents=True, exist_ok=True)
        settings = local_settings(options.state_dir)
        layout = await asyncio.to_thread(load_layout, options.root)
        jwt_file = options.state_dir / JWT_KEYS_FILE
        with local_aws(settings, layout, jwt_key_file=jwt_file) as resolved:
            async with _running(resolved, layout_receives(layout), options) as running:
                write_run_record(options.state_dir, running.record)
                try:
                    await _after_start(running, options, echo, stop)
                finally:
                    remove_run_record(options.state_dir, pid=running.record.pid)
    echo("Stopped; state kept in " + str(options.state_dir))


def layout_receives(layout: Any) -> dict[str, int]:
    """Worker settings the queue's definition (and a quick Ctrl-C) dictate."""
    return {
        "queue_max_receive_count": layout.max_receive_count,
        "worker_visibility_timeout_seconds": layout.visibility_timeout_seconds,
        "worker_poll_wait_seconds": LOCAL_POLL_WAIT_SECONDS,
    }


async def _after_start(
    running: Running, options: UpOptions, echo: Echo, stop: asyncio.Event
) -> None:
    from agatha.client.aio import AsyncAgathaClient
    from agatha.local.demo import banner

    key_file = options.state_dir / DEMO_KEY_FILE
    for line in banner(
        running.record.url, key_file, aws_endpoint_url=running.settings.aws_endpoint_url
    ):
        echo(line)
    async with AsyncAgathaClient(running.record.url, running.api_key, long_poll=5.0) as client:
        demo = asyncio.ensure_future(_demo(client, running, options, echo))
        if not await _first_of(demo, stop) and options.once:
            raise DemoFailed("stopped by a signal before the demo request completed")
    if options.once:
        echo("Demo succeeded (--once): stopping")
        return
    if not stop.is_set():
        echo("Serving; press Ctrl-C to stop")
        await stop.wait()
    echo("Stopping...")


async def _demo(
    client: AsyncAgathaClient, running: Running, options: UpOptions, echo: Echo
) -> None:
    from agatha.local.demo import DEMO_MODEL, run_demo

    if options.worker:
        key_file = options.state_dir / DEMO_KEY_FILE
        await run_demo(
            client, echo, url=running.record.url, key_file=key_file, timeout=options.demo_timeout
        )
        return
    submitted = await client.submit("Hello", model=DEMO_MODEL)
    echo(
        f"Demo request:  202 {submitted.status} {submitted.id} (worker disabled: it stays "
        "pending until a worker polls the queue)"
    )


async def _first_of(task: asyncio.Future[Any], stop: asyncio.Event) -> bool:
    """Await ``task`` unless ``stop`` comes first (then cancel it); True if it finished."""
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        task.cancel()
    await asyncio.gather(stopper, return_exceptions=True)
    await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        return False
    task.result()
    return True


@dataclass(frozen=True)
class Running:
    """A started platform."""

    settings: Settings
    record: RunRecord
    api_key: str


@contextlib.asynccontextmanager
async def _running(
    settings: Settings, worker_defaults: dict[str, int], options: UpOptions
) -> AsyncIterator[Running]:
    from agatha.local.demo import ensure_demo_key
    from app.db.engine import create_engine_for, resolve_database_url
    from app.db.migrate import upgrade_to_head
    from app.notify import InProcessNotifier

    async with AsyncExitStack() as stack:
        url = await asyncio.to_thread(resolve_database_url, settings)
        await asyncio.to_thread(upgrade_to_head, url)
        engine = create_engine_for(url)
        stack.push_async_callback(engine.dispose)
        api_key = await ensure_demo_key(engine, options.state_dir)
        # One process: the worker wakes the gateway's long-polls directly.
        notifier = InProcessNotifier()
        port = await _start_gateway(settings, options.port, stack, notifier)
        if options.worker:
            await _start_worker(settings, worker_defaults, stack, notifier)
        gateway_url = f"http://127.0.0.1:{port}"
        pid = os.getpid()
        record = RunRecord(
            pid=pid,
            url=gateway_url,
            docs_url=f"{gateway_url}/docs",
            aws_endpoint_url=settings.aws_endpoint_url,
            demo_key_file=str(options.state_dir / DEMO_KEY_FILE),
            database=_database_label(url, options.state_dir),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            boot_id=process_boot_id(pid) or str(pid),
        )
        yield Running(settings=settings, record=record, api_key=api_key)


def _database_label(url: str, state_dir: Path) -> str:
    if url.startswith("sqlite"):
        return str(state_dir / DATABASE_FILE)
    return url.rsplit("@", maxsplit=1)[-1]  # host/db only: never the password


async def _start_gateway(
    settings: Settings, port: int, stack: AsyncExitStack, notifier: Notifier
) -> int:
    import uvicorn

    from app.gateway.app import create_app

    class EmbeddedServer(uvicorn.Server):
        # This process owns SIGINT/SIGTERM (they stop worker and gateway together).
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    sock = _bind(port)
    app = create_app(settings, notifier=notifier)
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GATEWAY_GRACEFUL_SECONDS,
    )
    server = EmbeddedServer(config)

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits when the app's lifespan fails
            raise StartupFailed(
                "the gateway did not start (its lifespan failed); the log above says why"
            ) from exc

    task = asyncio.ensure_future(serve())

    async def stop_gateway() -> None:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        sock.close()

    stack.push_async_callback(stop_gateway)
    await _until_started(server, task)
    return int(sock.getsockname()[1])


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise StartupFailed(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another --port "
            "(0 picks a free one)"
        ) from exc
    sock.set_inheritable(True)
    return sock


async def _until_started(server: Any, task: asyncio.Future[None]) -> None:
    """Wait (bounded) for uvicorn's ``started`` flag; surface a failed start."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GATEWAY_START_TIMEOUT
    while not server.started:
        if task.done():
            task.result()
            raise StartupFailed("the gateway stopped during start-up; the log above says why")
        if loop.time() > deadline:
            raise StartupFailed(f"the gateway did not start within {GATEWAY_START_TIMEOUT:g} s")
        await asyncio.sleep(0.02)


async def _start_worker(
    settings: Settings, defaults: dict[str, int], stack: AsyncExitStack, notifier: Notifier
) -> None:
    from app.worker.config import WorkerSettings
    from app.worker.runtime import build_runtime, new_poller

    worker = WorkerSettings()
    # The queue's own definition wins unless the environment says otherwise.
    unset = {k: v for k, v in defaults.items() if k not in worker.model_fields_set}
    worker = worker.model_copy(update=unset)
    runtime = await build_runtime(settings, worker, notifier=notifier)
    stack.push_async_callback(runtime.aclose)
    assert settings.queue_url is not None
    poller = new_poller(runtime, settings.queue_url, worker)
    stop = asyncio.Event()
    task = asyncio.ensure_future(poller.run(stop))
    task.add_done_callback(_report_worker_exit)

    async def stop_worker() -> None:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    stack.push_async_callback(stop_worker)


def _report_worker_exit(task: asyncio.Future[None]) -> None:
    # The poller only returns when asked to; anything else leaves requests pending unseen.
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger("agatha.local").error(
            "the worker stopped: %s; requests stay pending until `agatha local up` restarts",
            task.exception(),
            exc_info=task.exception(),
        )


@contextlib.contextmanager
def _stop_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM set ``stop``; the previous handlers come back after."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
