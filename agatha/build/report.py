"""Size report of a built bundle, against Lambda's deployment-package limits."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

MIB = 1024 * 1024
# Lambda quotas: a zip uploaded in the API call, and the unpacked function (with layers).
DIRECT_UPLOAD_LIMIT_BYTES = 50 * MIB
UNPACKED_LIMIT_BYTES = 250 * MIB
TOP_N = 12


@dataclass(frozen=True)
class SizeReport:
    """What a bundle weighs, in total and per top-level package."""

    path: str
    sha256: str
    target: str
    files: int
    zip_bytes: int
    unpacked_bytes: int
    largest: list[tuple[str, int]]

    @property
    def needs_s3_upload(self) -> bool:
        return self.zip_bytes > DIRECT_UPLOAD_LIMIT_BYTES

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {
            "largest": [{"name": n, "bytes": b} for n, b in self.largest],
            "direct_upload_limit_bytes": DIRECT_UPLOAD_LIMIT_BYTES,
            "unpacked_limit_bytes": UNPACKED_LIMIT_BYTES,
            "needs_s3_upload": self.needs_s3_upload,
        }


def size_report(path: Path, *, sha256: str, target: str) -> SizeReport:
    """Measure the zip at ``path``: totals and the heaviest top-level names."""
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    for info in infos:
        sizes[_top_level(info.filename)] += info.file_size
    return SizeReport(
        path=str(path),
        sha256=sha256,
        target=target,
        files=len(infos),
        zip_bytes=path.stat().st_size,
        unpacked_bytes=sum(sizes.values()),
        largest=sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:TOP_N],
    )


def _top_level(name: str) -> str:
    head = name.split("/", 1)[0]
    if head.endswith(".dist-info"):
        return "(package metadata)"
    return head


def render_text(report: SizeReport) -> str:
    """A human-readable report (for stdout)."""
    lines = [
        f"bundle   {report.path}",
        f"sha256   {report.sha256}",
        f"target   {report.target}",
        f"files    {report.files}",
        f"zipped   {_mib(report.zip_bytes)} (upload limit {_mib(DIRECT_UPLOAD_LIMIT_BYTES)})",
        f"unpacked {_mib(report.unpacked_bytes)} (limit {_mib(UNPACKED_LIMIT_BYTES)})",
        "largest:",
    ]
    lines += [f"  {_mib(size):>10}  {name}" for name, size in report.largest]
    if report.needs_s3_upload:
        lines.append("note: over the direct-upload limit; deploy the zip through S3")
    return "\n".join(lines)


def render_json(report: SizeReport) -> str:
    return json.dumps(report.as_dict(), indent=2)


def _mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB"
