"""The real worker bundle from the package index (slow: downloads ~50 MB once per cache).

These reach the package index, which the brief for the bundle requires: the platform
wheels cannot be made up. Wheels are cached under .agatha/wheels between runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agatha.build.inspect import bundle_wheel_tags
from agatha.build.report import SizeReport
from agatha.build.target import lambda_target, native_target
from agatha.build.worker import WorkerBuild, build_worker

pytestmark = pytest.mark.slow

PROBE = """
import sys
import app.worker.lambda_handler as h, app.worker.runtime, app.db.engine, asyncpg
assert callable(h.handler)
for absent in ("fastapi", "pulumi", "moto"):
    try:
        __import__(absent)
    except ImportError:
        continue
    sys.exit(f"{absent} must not be in the worker bundle")
print("handler-ok")
"""


@pytest.fixture(scope="session")
def arm64_bundle(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("arm64") / "worker.zip"
    build_worker(WorkerBuild(root=repo_root, target=lambda_target(), out=out))
    return out


def test_every_wheel_in_the_bundle_is_pure_or_manylinux_aarch64(arm64_bundle: Path) -> None:
    tags = bundle_wheel_tags(arm64_bundle)
    assert "aws_lambda_powertools-3.37.0.dist-info" in tags
    for dist, dist_tags in tags.items():
        assert dist_tags, dist
        for tag in dist_tags:
            _python, abi, platform = tag.split("-")
            assert (abi, platform) == ("none", "any") or (
                platform.startswith("manylinux") and platform.endswith("_aarch64")
            ), f"{dist}: {tag}"


def test_handler_imports_from_the_unpacked_native_bundle_alone(
    repo_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "native.zip"
    report = build_worker(WorkerBuild(root=repo_root, target=native_target(), out=out))
    assert isinstance(report, SizeReport) and report.unpacked_bytes > 0
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(unpacked)
    # -I ignores PYTHONPATH and -S drops site-packages: only the stdlib and the bundle.
    env = {"PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(unpacked)!r}); "
         f"exec({PROBE!r})"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "handler-ok"
