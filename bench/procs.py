"""Child processes of a harness: start, wait until ready, stop, kill -9; logs to files.

Every process a harness starts is tracked in a ``Procs`` registry and stopped by its own
pid when the harness ends, so nothing is left behind and nothing else is touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import ServiceStartFailed

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
STOP_GRACE_SECONDS = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, *, timeout: float, proc: Proc | None = None) -> None:
    """Block until ``port`` accepts connections (bounded); fail fast if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc is not None and proc.popen.poll() is not None:
            raise ServiceStartFailed(f"{proc.name} exited early:\n{proc.log_tail()}")
        time.sleep(0.1)  # polling a server start-up, bounded by ``timeout``
    tail = proc.log_tail() if proc is not None else ""
    raise ServiceStartFailed(f"nothing listens on 127.0.0.1:{port} after {timeout} s\n{tail}")


@dataclass
class Proc:
    """One started process and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill9()

    def kill9(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive():
            self.popen.kill()
            self.popen.wait(timeout=STOP_GRACE_SECONDS)


@dataclass
class Procs:
    """The processes of one harness run."""

    log_dir: Path
    started: list[Proc] = field(default_factory=list)

    def spawn(self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None) -> Proc:
        """Start ``argv`` with its output in ``<log_dir>/<name>.log``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                list(argv),
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        """Stop every process started here, newest first."""
        for proc in reversed(self.started):
            proc.stop()


@contextmanager
def procs(log_dir: Path) -> Iterator[Procs]:
    """A registry whose processes are all stopped on exit (even on errors)."""
    registry = Procs(log_dir)
    try:
        yield registry
    finally:
        registry.stop_all()
