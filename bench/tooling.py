"""Wall time of the infrastructure tooling for the prod stack (and the test-suite command).

Each command runs ``--repeat`` times as a fresh process (cold imports included, as an
operator would run it); the best and the median are reported. The whole test suite is
timed only with ``--suite`` (run it when the machine is otherwise quiet).

    .venv/bin/python -m bench.tooling --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bench.procstat import load_average

RESULTS = ROOT / "bench" / "results"
AGATHA = str(ROOT / ".venv" / "bin" / "agatha")
COMMANDS: dict[str, list[str]] = {
    "agatha plan --stack prod": [AGATHA, "plan", "--stack", "prod"],
    "agatha policy check --stack prod": [AGATHA, "policy", "check", "--stack", "prod"],
    "agatha cost --stack prod": [AGATHA, "cost", "--stack", "prod"],
}
SUITE = [str(ROOT / ".venv" / "bin" / "pytest"), "-q", "-p", "no:cacheprovider"]
FAILED_TAIL_LINES = 60


def time_command(argv: list[str], repeat: int) -> dict[str, Any]:
    """Best and median wall seconds of ``argv`` and its last exit code."""
    walls: list[float] = []
    failed: list[str] = []
    code = 0
    load = [round(x, 2) for x in load_average()]
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=1800, check=False)
        walls.append(time.perf_counter() - started)
        code = result.returncode
        if code != 0:
            failed = _tail(result.stdout + result.stderr)
    timed: dict[str, Any] = {
        "best_s": round(min(walls), 2),
        "median_s": round(statistics.median(walls), 2),
        "runs": repeat,
        "exit_code": code,
        "load_average_before": load,
        "load_average_after": [round(x, 2) for x in load_average()],
    }
    if failed:
        # A failed run's time is not a valid figure: keep why it failed, next to it.
        timed["failed_output_tail"] = failed
    return timed


def _tail(output: bytes, lines: int = FAILED_TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a command's output (pytest's summary of failures)."""
    return output.decode(errors="replace").splitlines()[-lines:]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite")
    parser.add_argument("--out", type=Path, default=RESULTS / "tooling.json")
    args = parser.parse_args(argv)
    result = {name: time_command(cmd, args.repeat) for name, cmd in COMMANDS.items()}
    if args.suite:
        result["pytest (whole suite)"] = time_command(SUITE, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
