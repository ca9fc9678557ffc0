"""Build the worker's Lambda bundle: app/ plus its dependencies as target-platform wheels."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agatha.build.bundle import merge_entries, tree_files, write_zip
from agatha.build.errors import BuildError, BundleTooLargeError
from agatha.build.inspect import foreign_distributions
from agatha.build.report import UNPACKED_LIMIT_BYTES, SizeReport, size_report
from agatha.build.target import Target
from agatha.build.wheels import fetch_wheels, install_wheels

log = logging.getLogger(__name__)

WORKER_REQUIREMENTS = Path("app/requirements-worker.txt")
CONSTRAINTS = Path("constraints.txt")
APP_DIR = Path("app")
DEFAULT_OUT = Path("dist/worker.zip")
DEFAULT_WHEELHOUSE = Path(".agatha/wheels")


@dataclass(frozen=True)
class WorkerBuild:
    """Inputs of one bundle build; relative paths are resolved against ``root``."""

    root: Path
    target: Target
    out: Path = DEFAULT_OUT
    wheelhouse: Path | None = None
    offline: bool = False
    requirements: Path = WORKER_REQUIREMENTS
    constraints: Path = CONSTRAINTS

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else self.root / relative

    def wheelhouse_dir(self) -> Path:
        return self.path(self.wheelhouse or DEFAULT_WHEELHOUSE / self.target.cache_key())


def build_worker(build: WorkerBuild) -> SizeReport:
    """Fetch (unless offline), install into a fresh folder, zip deterministically, measure."""
    requirements, constraints = build.path(build.requirements), build.path(build.constraints)
    wheelhouse = build.wheelhouse_dir()
    for required in (requirements, constraints, build.path(APP_DIR)):
        if not required.exists():
            raise BuildError(f"{required} does not exist; run from the repository root (--root)")
    if build.offline:
        if not wheelhouse.is_dir():
            raise BuildError(f"--offline needs a filled wheelhouse, and {wheelhouse} is missing")
    else:
        log.info("downloading wheels for %s into %s", build.target.cache_key(), wheelhouse)
        fetch_wheels(
            requirements=requirements,
            constraints=constraints,
            target=build.target,
            wheelhouse=wheelhouse,
        )
    with tempfile.TemporaryDirectory(prefix="agatha-worker-") as scratch:
        site_dir = Path(scratch) / "site"
        install_wheels(
            requirements=requirements,
            constraints=constraints,
            target=build.target,
            wheelhouse=wheelhouse,
            site_dir=site_dir,
        )
        entries = merge_entries(
            tree_files(build.path(APP_DIR), prefix="app/"), tree_files(site_dir)
        )
        unpacked = sum(path.stat().st_size for path in entries.values())
        if unpacked > UNPACKED_LIMIT_BYTES:
            raise BundleTooLargeError(
                f"the bundle unpacks to {unpacked} bytes, over Lambda's {UNPACKED_LIMIT_BYTES}; "
                f"drop dependencies from {build.requirements}"
            )
        out = build.path(build.out)
        digest = write_zip(entries, out)
    foreign = [] if build.target.native else foreign_distributions(out, build.target)
    if foreign:
        out.unlink()
        raise BuildError(
            f"wheels for another platform ended up in the bundle: {', '.join(foreign)}; "
            f"pin versions that publish {build.target.arch} wheels"
        )
    return size_report(out, sha256=digest, target=build.target.cache_key())
