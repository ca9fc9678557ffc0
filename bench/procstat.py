"""CPU time and memory of one process from /proc (Linux), without psutil.

``utime + stime`` of ``/proc/<pid>/stat`` covers every thread of the process and none of
its children, so the gateway's figure excludes PostgreSQL, Redis and the emulator.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from bench.errors import HarnessError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds consumed so far by ``pid`` (all threads)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            text = handle.read()
    except OSError as exc:
        raise HarnessError(f"process {pid} is gone; was it started by this harness?") from exc
    # The command name (field 2) may contain spaces: split after its closing parenthesis.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a server may fork workers)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [pid], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        tree += children
        todo += children
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` plus its live descendants."""
    total = 0.0
    for member in process_tree(pid):
        try:
            total += cpu_seconds(member)
        except HarnessError:
            if member == pid:
                raise
    return total


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` in bytes."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE_BYTES
    except OSError as exc:
        raise HarnessError(f"process {pid} is gone; cannot read its memory") from exc


def load_average() -> tuple[float, float, float]:
    """The 1/5/15-minute load averages (recorded with every figure: the machine is shared)."""
    return os.getloadavg()


@dataclass
class CpuMeter:
    """CPU and wall time of one process between ``start()`` and ``stop()``."""

    pid: int
    tree: bool = False
    cpu_start: float = 0.0
    wall_start: float = 0.0
    cpu_used: float = 0.0
    wall_used: float = 0.0

    def read(self) -> float:
        return tree_cpu_seconds(self.pid) if self.tree else cpu_seconds(self.pid)

    def start(self) -> None:
        self.cpu_start = self.read()
        self.wall_start = time.perf_counter()

    def stop(self) -> None:
        self.cpu_used = self.read() - self.cpu_start
        self.wall_used = time.perf_counter() - self.wall_start

    def ms_per(self, count: int) -> float:
        """CPU milliseconds per unit of work (NaN when nothing was done)."""
        return self.cpu_used * 1000 / count if count else float("nan")


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of all cores so far, from ``/proc/stat``.

    Busy is everything but idle, iowait and steal; steal is time the hypervisor gave this
    virtual machine's cores to someone else (the noise of a shared host, made visible).
    """
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    steal = fields[7] if len(fields) > 7 else 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle - steal) / CLOCK_TICKS, steal / CLOCK_TICKS


@dataclass
class MachineMeter:
    """Busy and stolen cores of the whole machine between ``start()`` and ``stop()``."""

    busy_start: float = 0.0
    steal_start: float = 0.0
    wall_start: float = 0.0
    busy_cores: float = 0.0
    stolen_cores: float = 0.0

    def start(self) -> None:
        self.busy_start, self.steal_start = machine_cpu_seconds()
        self.wall_start = time.perf_counter()

    def stop(self) -> None:
        wall = time.perf_counter() - self.wall_start
        busy, steal = machine_cpu_seconds()
        if wall:
            self.busy_cores = (busy - self.busy_start) / wall
            self.stolen_cores = (steal - self.steal_start) / wall
