"""`agatha build`: build release artifacts (today: the worker's Lambda bundle)."""

from __future__ import annotations

from pathlib import Path

import click

from agatha.build.target import ARCH_PLATFORMS, DEFAULT_ARCH, DEFAULT_PYTHON


@click.group()
def build() -> None:
    """Build deployable artifacts from this repository."""


@build.command("worker")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="dist/worker.zip",
    show_default=True,
    help="Zip file to write.",
)
@click.option(
    "--python",
    "python_version",
    default=DEFAULT_PYTHON,
    show_default=True,
    help="Lambda runtime Python version (must match the worker function's runtime).",
)
@click.option(
    "--arch",
    type=click.Choice(sorted(ARCH_PLATFORMS)),
    default=DEFAULT_ARCH,
    show_default=True,
    help="Lambda architecture.",
)
@click.option(
    "--native",
    is_flag=True,
    help="Build for this machine's interpreter and platform instead (local testing).",
)
@click.option(
    "--wheelhouse",
    type=click.Path(file_okay=False, path_type=Path),
    help="Wheel cache folder [default: .agatha/wheels/<target>].",
)
@click.option("--offline", is_flag=True, help="Use only the wheelhouse; no package index.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
def worker(
    *,
    out: Path,
    python_version: str,
    arch: str,
    native: bool,
    wheelhouse: Path | None,
    offline: bool,
    output_format: str,
    root: Path,
) -> None:
    """Zip app/ and its dependencies (platform wheels) for the Lambda runtime; print sizes."""
    click.echo(
        do_build_worker(
            out=out,
            python_version=python_version,
            arch=arch,
            native=native,
            wheelhouse=wheelhouse,
            offline=offline,
            output_format=output_format,
            root=root,
        )
    )


def do_build_worker(
    *,
    out: Path,
    python_version: str,
    arch: str,
    native: bool,
    wheelhouse: Path | None,
    offline: bool,
    output_format: str,
    root: Path,
) -> str:
    """Build the bundle and render its size report."""
    from agatha.build.report import render_json, render_text
    from agatha.build.target import lambda_target, native_target
    from agatha.build.worker import WorkerBuild, build_worker

    target = native_target() if native else lambda_target(python=python_version, arch=arch)
    report = build_worker(
        WorkerBuild(
            root=root.resolve(),
            target=target,
            out=out,
            wheelhouse=wheelhouse,
            offline=offline,
        )
    )
    return render_json(report) if output_format == "json" else render_text(report)
