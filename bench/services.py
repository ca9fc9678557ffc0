"""Private PostgreSQL and Redis servers for a harness (never the shared ones on 5432/6379).

Other people's tests use the shared servers: restarting those in a drill would break
them. A harness gets its own PostgreSQL cluster (initdb in a temp folder, run as the
``postgres`` user) and its own ``redis-server`` on free ports, and removes them after.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.errors import HarnessError, ServiceStartFailed
from bench.procs import Proc, Procs, free_port, wait_for_port

PG_ROOTS = (Path("/usr/lib/postgresql"),)
PG_USER = "postgres"


def pg_bin(tool: str) -> str:
    """Path of a PostgreSQL server tool (newest installed major version)."""
    for root in PG_ROOTS:
        if root.is_dir():
            for version in sorted(root.iterdir(), reverse=True):
                candidate = version / "bin" / tool
                if candidate.exists():
                    return str(candidate)
    raise HarnessError(f"{tool} not found under /usr/lib/postgresql; apt-get install postgresql")


def _as_postgres(argv: list[str], *, timeout: float = 60) -> None:
    result = subprocess.run(
        ["runuser", "-u", PG_USER, "--", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceStartFailed(f"{' '.join(argv[:2])} failed: {result.stderr[-800:]}")


@dataclass
class PrivatePostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<port>."""

    data_dir: Path
    port: int

    @property
    def log(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int:
        """The postmaster's pid (its backends are its children)."""
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.data_dir.parent} -c listen_addresses=127.0.0.1"
        argv = [pg_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log), "-w"]
        _as_postgres([*argv, "-o", options, action, *extra])

    def start(self) -> None:
        self.pg_ctl("start")

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """A real restart: every connection is dropped, as in a failover or a crash."""
        self.pg_ctl("restart", "-m", "fast")

    def create_database(self, name: str) -> str:
        _as_postgres(
            [pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_USER, name]
        )
        return self.url(name)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb + start a cluster on a free port; stop and delete it on exit."""
    base = Path(tempfile.mkdtemp(prefix="agatha-bench-pg-"))
    shutil.chown(base, user=PG_USER, group=PG_USER)
    server = PrivatePostgres(base / "data", free_port())
    _as_postgres([pg_bin("initdb"), "-D", str(server.data_dir), "-A", "trust", "-U", PG_USER])
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A ``redis-server`` child process without persistence."""

    registry: Procs
    port: int
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise HarnessError("redis-server not found; apt-get install redis-server")
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        self.proc = self.registry.spawn(f"redis-{self.port}", [*argv, "--appendonly", "no"])
        wait_for_port(self.port, timeout=20, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


def private_redis(registry: Procs) -> PrivateRedis:
    """Start a Redis on a free port (stopped with the registry)."""
    server = PrivateRedis(registry, free_port())
    server.start()
    return server
