"""The worker bundle build, offline against a hand-made wheelhouse (same code path as CI)."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from agatha.build.errors import BuildError
from agatha.build.inspect import bundle_wheel_tags, foreign_distributions
from agatha.build.target import lambda_target
from agatha.build.worker import WorkerBuild, build_worker

from .conftest import AARCH64_TAG, PURE_TAG, make_wheel


def _build(root: Path, out: str) -> Path:
    build_worker(WorkerBuild(root=root, target=lambda_target(), out=Path(out), offline=True))
    return root / out


def test_same_inputs_give_the_same_bundle_bytes(project: Path) -> None:
    first = _build(project, "dist/a.zip")
    # A different mtime on a source file must not change the bytes.
    (project / "app" / "worker" / "lambda_handler.py").touch()
    second = _build(project, "dist/b.zip")
    assert first.read_bytes() == second.read_bytes()


def test_bundle_entries_are_sorted_with_fixed_times_and_modes(project: Path) -> None:
    with zipfile.ZipFile(_build(project, "dist/w.zip")) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {stat.S_IMODE(info.external_attr >> 16) for info in infos} <= {0o644, 0o755}
    assert "app/worker/lambda_handler.py" in names
    assert "fakepure/__init__.py" in names and "fakebin/_native.so" in names


def test_bundle_leaves_out_bytecode(project: Path) -> None:
    with zipfile.ZipFile(_build(project, "dist/w.zip")) as archive:
        names = archive.namelist()
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_bundle_records_the_target_wheel_tags(project: Path) -> None:
    tags = bundle_wheel_tags(_build(project, "dist/w.zip"))
    assert tags == {"fakebin-1.0.dist-info": [AARCH64_TAG], "fakepure-2.0.dist-info": [PURE_TAG]}


def test_foreign_platform_wheel_is_refused(project: Path) -> None:
    wheels = project / ".agatha" / "wheels" / "py3.12-arm64"
    (wheels / f"fakebin-1.0-{AARCH64_TAG}.whl").unlink()
    make_wheel(wheels, name="fakebin", version="1.0", tag="cp312-cp312-manylinux_2_28_x86_64",
               files={"fakebin/__init__.py": b""})  # fmt: skip
    # pip itself refuses the x86_64 wheel for an aarch64 target.
    with pytest.raises(BuildError, match="pip failed"):
        _build(project, "dist/w.zip")


def test_foreign_distributions_names_x86_wheels(tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("x-1.dist-info/WHEEL", "Tag: cp312-cp312-manylinux_2_28_x86_64\n")
        archive.writestr("y-1.dist-info/WHEEL", f"Tag: {PURE_TAG}\n")
    assert foreign_distributions(bundle, lambda_target()) == ["x-1.dist-info"]


def test_offline_build_without_wheelhouse_says_what_is_missing(project: Path) -> None:
    build = WorkerBuild(
        root=project, target=lambda_target(arch="x86_64"), out=Path("dist/w.zip"), offline=True
    )
    with pytest.raises(BuildError, match="needs a filled wheelhouse"):
        build_worker(build)


def test_dependency_shadowing_the_app_is_refused(project: Path) -> None:
    wheels = project / ".agatha" / "wheels" / "py3.12-arm64"
    make_wheel(wheels, name="fakepure", version="2.0", tag=PURE_TAG,
               files={"fakepure/__init__.py": b"", "app/__init__.py": b""})  # fmt: skip
    with pytest.raises(BuildError, match="come from two places"):
        _build(project, "dist/w.zip")
