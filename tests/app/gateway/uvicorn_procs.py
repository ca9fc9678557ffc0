"""Real gateway processes for tests: ``uvicorn app.gateway:create_app --factory`` on 127.0.0.1.

Each process runs in its own session (process group) so teardown can prove nothing of
it is left behind; output goes to a log file whose tail explains a failed start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
READY_TIMEOUT_SECONDS = 60.0  # two cold imports on 2 busy cores; typically ~3 s
STOP_TIMEOUT_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.1
# AWS_* and every settings field (by its env name) are dropped from the inherited
# environment: the child must see only what the test chose, not the developer's shell.
INHERITED_PREFIXES_DROPPED = ("AWS_",)


@dataclass(frozen=True)
class GatewayProcess:
    """One running uvicorn process serving the gateway."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        """Where the process listens."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the process's combined stdout/stderr."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held together so none repeats)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """The inherited environment minus settings/AWS variables, plus ``overrides``."""
    setting_names = {name.upper() for name in Settings.model_fields}
    base = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in setting_names
        and not key.upper().startswith(INHERITED_PREFIXES_DROPPED)
    }
    return base | dict(overrides)


def spawn(name: str, *, port: int, env: Mapping[str, str], log_dir: Path) -> GatewayProcess:
    """Start one gateway process exactly as the image's CMD does (minus proxy headers)."""
    log_path = log_dir / f"gateway-{name}.log"
    command = [
        sys.executable,  # the virtualenv's python (.venv/bin/python under .venv/bin/pytest)
        "-m",
        "uvicorn",
        "app.gateway:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "5",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return GatewayProcess(name=name, port=port, process=process, log_path=log_path)


def wait_ready(gateway: GatewayProcess, *, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll ``/readyz`` until it answers 200; raise with the log tail if it never does."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(base_url=gateway.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if gateway.process.poll() is not None:
                raise RuntimeError(
                    f"gateway {gateway.name} exited with {gateway.process.returncode} before "
                    f"becoming ready; its log ends with:\n{gateway.log_tail()}"
                )
            try:
                response = client.get("/readyz")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            time.sleep(POLL_INTERVAL_SECONDS)  # polling a process start-up, bounded above
    raise RuntimeError(
        f"gateway {gateway.name} was not ready within {timeout:.0f} s (last /readyz: {last}); "
        f"its log ends with:\n{gateway.log_tail()}"
    )


def stop(process: subprocess.Popen[bytes], *, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
    """SIGTERM the process group, SIGKILL it after ``timeout``; returns the exit code."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
    code = process.wait(timeout=timeout)
    if group_alive(process.pid):
        # The leader is reaped but something it forked into its group lives on.
        _signal_group(process.pid, signal.SIGKILL)
    return code


def group_alive(pgid: int) -> bool:
    """True while any process of the group ``pgid`` exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # already gone: nothing to signal
        os.killpg(pgid, sig)


@contextmanager
def running_gateways(
    names: list[str], *, env: Mapping[str, str], log_dir: Path
) -> Iterator[list[GatewayProcess]]:
    """Start one process per name, wait until all are ready, stop them all on exit."""
    started: list[GatewayProcess] = []
    try:
        for name, port in zip(names, free_ports(len(names)), strict=True):
            started.append(spawn(name, port=port, env=env, log_dir=log_dir))
        for gateway in started:
            wait_ready(gateway)
        yield started
    finally:
        for gateway in started:
            stop(gateway.process)
        leftovers = [
            g.name for g in started if g.process.poll() is None or group_alive(g.process.pid)
        ]
        assert not leftovers, f"gateway processes still running after teardown: {leftovers}"
