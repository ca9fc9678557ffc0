"""A runbook is an ordered list of small steps that can run, be printed, or be done by hand.

Each step may say how to tell it is already in effect (``verify``, true also once a later
step has run): a re-run skips those, so an interrupted procedure resumes where it stopped.
A failing step rolls back itself and the steps before it (those with a ``rollback``),
newest first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agatha.errors import AgathaError
from runbooks.errors import Interrupted, RunbookError, StepFailed


@dataclass(frozen=True)
class Step:
    """One step: what it does in words, how to do it, how to tell it is done, how to undo it."""

    name: str
    describe: str
    run: Callable[[], None]
    verify: Callable[[], bool] | None = None
    rollback: Callable[[], None] | None = None


Log = Callable[[str], None]


def plan_steps(steps: Sequence[Step], *, log: Log) -> list[dict[str, str]]:
    """Dry run: print every step; leading steps already in effect are shown as done."""
    results = []
    still_checking = True
    for index, step in enumerate(steps, start=1):
        done = still_checking and step.verify is not None and step.verify()
        still_checking = done
        state = "already-done" if done else "would-run"
        log(f"DRY RUN [{index}/{len(steps)}] {step.name}: {step.describe} ({state})")
        results.append({"step": step.name, "state": state, "describe": step.describe})
    return results


def run_steps(steps: Sequence[Step], *, log: Log, resume_hint: str = "") -> list[dict[str, str]]:
    """Run the steps in order; skip those already in effect; roll back on failure."""
    results: list[dict[str, str]] = []
    for index, step in enumerate(steps, start=1):
        try:
            state = _run_one(step, f"[{index}/{len(steps)}] {step.name}", log=log)
        except KeyboardInterrupt as exc:
            raise Interrupted(_state_report(steps, index, "interrupted", resume_hint)) from exc
        except (RunbookError, AgathaError) as exc:
            rolled_back = _roll_back(steps[:index], log=log)
            report = _state_report(steps, index, "failed", resume_hint)
            raise StepFailed(
                f"step {step.name} failed: {_message(exc)}\n{rolled_back}\n{report}"
            ) from exc
        results.append({"step": step.name, "state": state})
    return results


def _run_one(step: Step, prefix: str, *, log: Log) -> str:
    """Run one step unless it is already in effect; check its effect afterwards."""
    if step.verify is not None and step.verify():
        log(f"{prefix}: already in effect, skipping")
        return "already-done"
    log(f"{prefix}: {step.describe}")
    step.run()
    return "done"


def _roll_back(steps: Sequence[Step], *, log: Log) -> str:
    """Undo, newest first, every step that can be undone; say what happened."""
    undone: list[str] = []
    for step in reversed(steps):
        if step.rollback is None:
            continue
        log(f"rolling back {step.name}")
        try:
            step.rollback()
        except (RunbookError, AgathaError) as exc:
            return (
                f"Rollback of {step.name} FAILED: {_message(exc)}. Undo it by hand "
                f"(see the runbook); rolled back so far: {', '.join(undone) or 'nothing'}."
            )
        undone.append(step.name)
    return f"Rolled back: {', '.join(undone)}." if undone else "Nothing needed rolling back."


def _state_report(steps: Sequence[Step], index: int, how: str, resume_hint: str) -> str:
    """Which steps completed, which one stopped, which never started, and how to go on."""
    names = [s.name for s in steps]
    lines = [
        f"State: completed: {', '.join(names[: index - 1]) or 'none'}; "
        f"{how} during: {names[index - 1]}; not started: {', '.join(names[index:]) or 'none'}.",
        "Re-run the same command to resume: steps already in effect are detected and skipped.",
    ]
    if resume_hint:
        lines.append(resume_hint)
    return "\n".join(lines)


def _message(exc: Exception) -> str:
    return exc.format_message() if isinstance(exc, RunbookError) else str(exc)
