"""A local wheelhouse of tiny hand-made wheels, so bundle builds run without an index."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

AARCH64_TAG = "cp312-cp312-manylinux_2_28_aarch64"
PURE_TAG = "py3-none-any"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(folder: Path, *, name: str, version: str, tag: str, files: dict[str, bytes]) -> Path:
    """Write a minimal valid wheel (METADATA, WHEEL with ``tag``, RECORD with hashes)."""
    info = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    ).encode()
    contents[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: tests\n"
        f"Root-Is-Purelib: {'true' if tag == PURE_TAG else 'false'}\nTag: {tag}\n"
    ).encode()
    record = [_record_line(n, d) for n, d in contents.items()] + [f"{info}/RECORD,,"]
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, data in contents.items():
            archive.writestr(arcname, data)
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository root with a tiny app/, pinned requirements and a filled wheelhouse."""
    root = tmp_path / "repo"
    handler = root / "app" / "worker"
    handler.mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (handler / "__init__.py").write_text("")
    (handler / "lambda_handler.py").write_text(
        "import fakepure\n\ndef handler(event, context):\n    return fakepure.VALUE\n"
    )
    (handler / "__pycache__").mkdir()
    (handler / "__pycache__" / "stale.cpython-311.pyc").write_bytes(b"\0")
    (root / "app" / "requirements-worker.txt").write_text("fakebin==1.0\nfakepure==2.0\n")
    (root / "constraints.txt").write_text("fakebin==1.0\nfakepure==2.0\n")
    wheels = root / ".agatha" / "wheels" / "py3.12-arm64"
    wheels.mkdir(parents=True)
    make_wheel(wheels, name="fakebin", version="1.0", tag=AARCH64_TAG,
               files={"fakebin/__init__.py": b"", "fakebin/_native.so": b"\x7fELF"})  # fmt: skip
    make_wheel(wheels, name="fakepure", version="2.0", tag=PURE_TAG,
               files={"fakepure/__init__.py": b"VALUE = 'pure'\n"})  # fmt: skip
    return root
