"""The platform a bundle is built for: Lambda's Python version and CPU architecture."""

from __future__ import annotations

import sys
from dataclasses import dataclass

# Must equal the runtime of the worker function (components/compute_worker.py
# WORKER_RUNTIME); a test keeps the two in step.
DEFAULT_PYTHON = "3.12"
DEFAULT_ARCH = "arm64"

# Lambda's python3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so manylinux_2_28
# wheels load there; some projects (asyncpg) no longer publish manylinux2014 ones.
ARCH_PLATFORMS: dict[str, tuple[str, ...]] = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}
# The machine part of a wheel's platform tag, per Lambda architecture name.
ARCH_MACHINES: dict[str, str] = {"arm64": "aarch64", "x86_64": "x86_64"}


@dataclass(frozen=True)
class Target:
    """Python version and wheel platforms to resolve dependencies for.

    Empty ``platforms`` means this machine's own interpreter and platform (used to build
    a bundle that can be imported here, through the same code path).
    """

    python: str
    arch: str
    platforms: tuple[str, ...]

    @property
    def native(self) -> bool:
        return not self.platforms

    def pip_args(self) -> list[str]:
        """The pip options that select wheels for this target."""
        if self.native:
            return ["--only-binary=:all:"]
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python]
        for platform in self.platforms:
            args += ["--platform", platform]
        return args

    def cache_key(self) -> str:
        """A folder name for this target's wheel cache."""
        return f"py{self.python}-{self.arch}" + ("-native" if self.native else "")


def lambda_target(*, python: str = DEFAULT_PYTHON, arch: str = DEFAULT_ARCH) -> Target:
    """The target of a Lambda runtime (``python3.X`` on ``arm64`` or ``x86_64``)."""
    if arch not in ARCH_PLATFORMS:
        raise ValueError(
            f"unknown Lambda architecture {arch!r}; use one of {sorted(ARCH_PLATFORMS)}"
        )
    return Target(python=python, arch=arch, platforms=ARCH_PLATFORMS[arch])


def native_target() -> Target:
    """This machine's interpreter and platform."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Target(python=version, arch="native", platforms=())
