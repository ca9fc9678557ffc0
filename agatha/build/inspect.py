"""What a bundle contains: the wheel tags recorded by each installed distribution."""

from __future__ import annotations

import zipfile
from pathlib import Path

from agatha.build.target import ARCH_MACHINES, Target


def bundle_wheel_tags(path: Path) -> dict[str, list[str]]:
    """``dist-info`` folder -> the ``Tag:`` lines of its WHEEL file, for a bundle zip."""
    tags: dict[str, list[str]] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            head, _, tail = name.partition("/")
            if head.endswith(".dist-info") and tail == "WHEEL":
                text = archive.read(name).decode("utf-8")
                tags[head] = [
                    line.split(":", 1)[1].strip()
                    for line in text.splitlines()
                    if line.startswith("Tag:")
                ]
    return tags


def runs_on(tag: str, target: Target) -> bool:
    """True when a wheel tag is pure Python or built for the target's CPU and Python."""
    python, abi, platform = tag.split("-")
    if platform == "any":
        return abi == "none" or python == f"cp{target.python.replace('.', '')}"
    machine = ARCH_MACHINES.get(target.arch, target.arch)
    return platform.startswith("manylinux") and platform.endswith(f"_{machine}")


def foreign_distributions(path: Path, target: Target) -> list[str]:
    """Distributions in the bundle with no tag that runs on ``target`` (should be none)."""
    return sorted(
        dist
        for dist, tags in bundle_wheel_tags(path).items()
        if not any(runs_on(tag, target) for tag in tags)
    )
