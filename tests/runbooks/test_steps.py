from __future__ import annotations

import pytest

from runbooks.errors import Interrupted, StepFailed, VerificationFailed
from runbooks.steps import Step, plan_steps, run_steps


def _recorder() -> tuple[list[str], Step, Step, Step]:
    events: list[str] = []

    def fail() -> None:
        raise VerificationFailed("nope")

    a = Step("a", "do a", lambda: events.append("run a"), rollback=lambda: events.append("undo a"))
    b = Step("b", "do b", lambda: events.append("run b"), verify=lambda: True)
    c = Step("c", "do c", fail, rollback=lambda: events.append("undo c"))
    return events, a, b, c


def test_failure_rolls_back_failed_and_earlier_steps_newest_first() -> None:
    events, a, b, c = _recorder()
    with pytest.raises(StepFailed) as raised:
        run_steps([a, b, c], log=lambda _m: None)
    assert events == ["run a", "undo c", "undo a"]
    assert "completed: a, b; failed during: c" in raised.value.format_message()


def test_ctrl_c_reports_state_and_how_to_resume() -> None:
    def interrupt() -> None:
        raise KeyboardInterrupt

    steps = [Step("a", "do a", lambda: None), Step("b", "do b", interrupt), Step("c", "c", print)]
    with pytest.raises(Interrupted) as raised:
        run_steps(steps, log=lambda _m: None, resume_hint="use --target x")
    message = raised.value.format_message()
    assert "completed: a; interrupted during: b; not started: c" in message
    assert "use --target x" in message


def test_dry_run_prints_every_step_and_runs_none() -> None:
    events, a, b, c = _recorder()
    lines: list[str] = []
    results = plan_steps([b, a, c], log=lines.append)
    assert events == []
    assert [r["state"] for r in results] == ["already-done", "would-run", "would-run"]
    assert len(lines) == 3 and lines[1].startswith("DRY RUN [2/3] a: do a")
