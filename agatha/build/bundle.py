"""Deterministic zip archives: fixed order, timestamps and permissions.

The same files with the same contents always give the same bytes, whatever the
machine's clock, umask or directory iteration order.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from agatha.build.errors import BuildError

# The earliest timestamp a zip entry can carry.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
COMPRESS_LEVEL = 9
# Never shipped: bytecode caches (they embed mtimes) and console scripts (Lambda runs none).
SKIPPED_DIRS = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
SKIPPED_TOP_LEVEL = frozenset({"bin"})


def tree_files(root: Path, *, prefix: str = "") -> dict[str, Path]:
    """Archive names (``prefix`` + POSIX relative path) of the files under ``root``."""
    files: dict[str, Path] = {}
    for path in _walk(root):
        relative = path.relative_to(root)
        if not prefix and relative.parts[0] in SKIPPED_TOP_LEVEL:
            continue
        files[prefix + relative.as_posix()] = path
    return files


def _walk(root: Path) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for filename in sorted(filenames):
            if not filename.endswith(SKIPPED_SUFFIXES):
                yield Path(directory) / filename


def merge_entries(*parts: Mapping[str, Path]) -> dict[str, Path]:
    """Union of archive entries; two sources for one name is an error, not a silent win."""
    merged: dict[str, Path] = {}
    for part in parts:
        clash = sorted(set(merged) & set(part))
        if clash:
            raise BuildError(
                f"{len(clash)} bundle paths come from two places (first: {clash[0]}); "
                "a dependency ships a top-level name the app uses: rename or drop one"
            )
        merged |= part
    return merged


def write_zip(entries: Mapping[str, Path], out: Path) -> str:
    """Write ``entries`` (archive name -> file) to ``out``; return the zip's sha256."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(entries):
            archive.writestr(
                _zip_info(name, entries[name]),
                entries[name].read_bytes(),
                compress_type=zipfile.ZIP_DEFLATED,
                compresslevel=COMPRESS_LEVEL,
            )
    partial.replace(out)
    return sha256_of(out)


def _zip_info(name: str, source: Path) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
    executable = source.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    mode = EXECUTABLE_MODE if executable else FILE_MODE
    info.create_system = 3  # Unix, so the mode bits below are honoured when unpacking
    info.external_attr = (stat.S_IFREG | mode) << 16
    return info


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
