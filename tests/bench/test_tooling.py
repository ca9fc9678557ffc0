"""The tooling timer keeps why a timed command failed (a failed run's time is no figure)."""

from __future__ import annotations

import sys

from bench.tooling import time_command


def test_a_passing_command_is_timed_without_a_failure_tail() -> None:
    timed = time_command([sys.executable, "-c", "print('ok')"], 2)
    assert timed["exit_code"] == 0
    assert timed["runs"] == 2
    assert 0 < timed["best_s"] <= timed["median_s"]
    assert "failed_output_tail" not in timed


def test_a_failing_command_keeps_the_end_of_its_output() -> None:
    script = "import sys\nfor i in range(100): print(f'line {i}')\nsys.exit('1 failed, 9 passed')"
    timed = time_command([sys.executable, "-c", script], 1)
    assert timed["exit_code"] == 1
    tail = timed["failed_output_tail"]
    assert len(tail) == 60
    assert tail[-1] == "1 failed, 9 passed"
    assert tail[0] == "line 41"
