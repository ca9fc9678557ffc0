"""Benchmark: wall time of `agatha policy check --stack prod` (target: under 15 s).

Run: .venv/bin/python bench/policy_check.py [--stack prod] [--runs 3]
Each run is a fresh process, as a user or CI job would start it; the phases (SDK imports,
program evaluation, rule checks) are timed in-process once more to show where time goes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGATHA = ROOT / ".venv" / "bin" / "agatha"


def time_cli(stack: str) -> float:
    """Seconds one `agatha policy check` process takes (its exit code may be 0 or 1)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(AGATHA), "policy", "check", "--stack", stack, "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"policy check failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - start


def phases(stack: str) -> dict[str, float]:
    """In-process split: SDK imports, mock evaluation, rule checks."""
    marks = [time.perf_counter()]
    from agatha.plan.mock_runtime import evaluate_stack
    from policies.offline import check_graph
    from policies.registry import ALL_RULES

    marks.append(time.perf_counter())
    graph = evaluate_stack(stack, root=ROOT)
    marks.append(time.perf_counter())
    check_graph(graph, ALL_RULES)
    marks.append(time.perf_counter())
    return {
        "imports": marks[1] - marks[0],
        "evaluate": marks[2] - marks[1],
        "rules": marks[3] - marks[2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = [time_cli(args.stack) for _ in range(args.runs)]
    print(
        f"agatha policy check --stack {args.stack}: runs {[round(t, 2) for t in times]} s, "
        f"median {statistics.median(times):.2f} s (target < 15 s)"
    )
    split = phases(args.stack)
    print("phases: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in split.items()))
    sys.exit(0 if statistics.median(times) < 15 else 1)


if __name__ == "__main__":
    main()
