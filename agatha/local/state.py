"""The local platform's one project-local folder (``.agatha/local/``) and what it holds.

``agatha.db`` (SQLite), ``jwt-keys.json`` and ``demo-key`` (owner-only) persist until
``agatha local down --purge``; ``run.json`` exists while a platform serves.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_SUBDIR = Path(".agatha") / "local"
RUN_FILE = "run.json"
DEMO_KEY_FILE = "demo-key"
JWT_KEYS_FILE = "jwt-keys.json"
DATABASE_FILE = "agatha.db"


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding Pulumi.yaml, else ``start``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").exists():
            return folder
    return here


def default_state_dir(start: Path | None = None) -> Path:
    """``<project>/.agatha/local``."""
    return project_root(start) / STATE_SUBDIR


@dataclass(frozen=True)
class RunRecord:
    """What a serving platform publishes about itself in ``run.json``."""

    pid: int
    url: str
    docs_url: str
    aws_endpoint_url: str | None
    demo_key_file: str
    database: str
    started_at: str
    boot_id: str

    @property
    def alive(self) -> bool:
        """True while the recorded process still runs (and is the same process)."""
        return process_boot_id(self.pid) == self.boot_id


def process_boot_id(pid: int) -> str | None:
    """``pid`` plus its start time: a PID reused by another process does not match."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # Field 22 of /proc/<pid>/stat (index 19 after the command name) is the start time.
    return f"{pid}:{fields[19]}"


def write_run_record(state_dir: Path, record: RunRecord) -> Path:
    """Write ``run.json`` atomically (readers never see half a file)."""
    path = state_dir / RUN_FILE
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
    partial.replace(path)
    return path


def read_run_record(state_dir: Path) -> RunRecord | None:
    """The recorded platform, or None when there is no readable ``run.json``."""
    try:
        data = json.loads((state_dir / RUN_FILE).read_text(encoding="utf-8"))
        return RunRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def remove_run_record(state_dir: Path, *, pid: int) -> None:
    """Delete ``run.json`` if it still describes ``pid``."""
    record = read_run_record(state_dir)
    if record is not None and record.pid == pid:
        (state_dir / RUN_FILE).unlink(missing_ok=True)


def write_secret_file(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def read_demo_key(state_dir: Path) -> str | None:
    """The demo API key saved by ``agatha local up``, if any."""
    try:
        return (state_dir / DEMO_KEY_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
