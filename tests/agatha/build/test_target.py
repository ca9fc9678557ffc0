"""Build targets: the Lambda runtime the bundle is built for."""

from __future__ import annotations

import pytest

from agatha.build.target import DEFAULT_ARCH, DEFAULT_PYTHON, lambda_target, native_target


def test_default_target_matches_the_worker_function_runtime() -> None:
    from components.compute_worker import WORKER_RUNTIME

    assert f"python{DEFAULT_PYTHON}" == WORKER_RUNTIME
    assert DEFAULT_ARCH == "arm64"


def test_lambda_target_asks_pip_for_aarch64_manylinux_wheels_only() -> None:
    args = lambda_target().pip_args()
    assert "--only-binary=:all:" in args
    assert args[args.index("--python-version") + 1] == DEFAULT_PYTHON
    platforms = [args[i + 1] for i, a in enumerate(args) if a == "--platform"]
    assert platforms and all(p.endswith("_aarch64") for p in platforms)


def test_native_target_selects_no_foreign_platform() -> None:
    assert native_target().native
    assert native_target().pip_args() == ["--only-binary=:all:"]


def test_unknown_architecture_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown Lambda architecture"):
        lambda_target(arch="sparc")
