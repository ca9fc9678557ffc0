"""Bounded polling with a progress display on stderr."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runbooks.errors import WaitTimeout

Check = Callable[[], tuple[bool, str]]


@dataclass(frozen=True)
class Waiter:
    """How long to wait and how to pass time (injectable so tests never sleep)."""

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    interval: float
    show_progress: bool = True

    def until(self, check: Check, *, what: str, timeout: float, fix: str) -> str:
        """Poll ``check`` until it reports done; raise :class:`WaitTimeout` naming ``fix``."""
        if not self.show_progress:
            return self._poll(check, what=what, timeout=timeout, fix=fix, show=lambda _s: None)
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with progress:
            task = progress.add_task(what, total=None)

            def show(state: str) -> None:
                progress.update(task, description=f"{what}: {state}")

            return self._poll(check, what=what, timeout=timeout, fix=fix, show=show)

    def _poll(
        self, check: Check, *, what: str, timeout: float, fix: str, show: Callable[[str], None]
    ) -> str:
        start = self.clock()
        while True:
            done, state = check()
            show(state)
            if done:
                return state
            elapsed = self.clock() - start
            if elapsed >= timeout:
                raise WaitTimeout(
                    f"timed out after {elapsed:.0f}s waiting for {what} (last state: {state}). "
                    f"What to do: {fix}"
                )
            self.sleep(min(self.interval, max(timeout - elapsed, 0.0)))
