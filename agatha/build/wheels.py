"""Resolve the worker's dependencies as platform wheels and install them into a folder.

Two pip steps so that the network is needed once: ``fetch_wheels`` downloads every wheel
for the target into a wheelhouse (a cache), ``install_wheels`` installs from that
wheelhouse alone, with pip's configuration ignored, so the result depends only on the
wheelhouse, the requirement files and the target.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from agatha.build.errors import DependencyFetchError
from agatha.build.target import Target

PIP_TIMEOUT_SECONDS = 900


def fetch_wheels(
    *, requirements: Path, constraints: Path, target: Target, wheelhouse: Path
) -> None:
    """Download the pinned wheels (and their dependencies) for ``target`` into ``wheelhouse``."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    _run_pip(
        [
            "download",
            "--dest",
            str(wheelhouse),
            *target.pip_args(),
            *_requirement_args(requirements, constraints),
        ],
        env=os.environ,
        step=f"downloading wheels for {target.cache_key()}",
    )


def install_wheels(
    *, requirements: Path, constraints: Path, target: Target, wheelhouse: Path, site_dir: Path
) -> None:
    """Install from ``wheelhouse`` only into ``site_dir`` (no index, no bytecode, no config)."""
    _run_pip(
        [
            "install",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "--target",
            str(site_dir),
            # .pyc files embed source mtimes; Lambda compiles on first import instead.
            "--no-compile",
            "--no-warn-script-location",
            *target.pip_args(),
            *_requirement_args(requirements, constraints),
        ],
        env=_hermetic_env(),
        step=f"installing wheels for {target.cache_key()} from {wheelhouse}",
    )


def _requirement_args(requirements: Path, constraints: Path) -> list[str]:
    return ["--requirement", str(requirements), "--constraint", str(constraints)]


def _hermetic_env() -> dict[str, str]:
    # No pip.conf and no PIP_* variables: extra find-links or constraints from the machine
    # must not change what lands in the bundle.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _run_pip(args: list[str], *, env: Mapping[str, str], step: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        *args,
        "--disable-pip-version-check",
        "--quiet",
    ]
    try:
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            text=True,
            env=dict(env),
            timeout=PIP_TIMEOUT_SECONDS,
        )
    except subprocess.CalledProcessError as exc:
        tail = "\n".join((exc.stderr or exc.stdout or "").strip().splitlines()[-15:])
        raise DependencyFetchError(
            f"pip failed while {step}:\n{tail}\n"
            "Check that every pin in the requirement file exists in constraints.txt with a "
            "wheel for this Python version and platform, and that the package index is "
            "reachable (or pass --offline with a filled --wheelhouse)."
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise DependencyFetchError(
            f"pip took longer than {PIP_TIMEOUT_SECONDS}s while {step}; "
            "check the connection to the package index and retry"
        ) from exc
