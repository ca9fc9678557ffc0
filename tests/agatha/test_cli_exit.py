"""`agatha` skips interpreter teardown once the Pulumi SDKs are loaded, losing nothing.

The console script is run as a real process: output must arrive whole through a pipe
and the exit code must be the one click chose, on success and on failure.
"""

from __future__ import annotations

import subprocess
import sys

from policies import docs as policy_docs

_RUN_WITH_SDK_LOADED = (
    "import sys, pulumi; from agatha.cli import main; sys.argv = ['agatha', *sys.argv[1:]]; main()"
)


def _agatha(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN_WITH_SDK_LOADED, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_large_output_arrives_whole_and_exit_code_is_zero() -> None:
    done = _agatha("policy", "docs")
    assert done.returncode == 0, done.stderr
    assert done.stdout == policy_docs.current() + "\n"


def test_failure_keeps_its_exit_code_and_message() -> None:
    done = _agatha("plan", "--stack", "no-such-stack")
    assert done.returncode == 1
    assert "no-such-stack" in done.stderr


def test_usage_error_keeps_exit_code_two() -> None:
    done = _agatha("policy", "check")
    assert done.returncode == 2
    assert "--stack" in done.stderr
