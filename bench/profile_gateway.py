"""Where the gateway's CPU goes on the accept path: py-spy samples grouped by operation.

Runs the stack, drives closed-loop load, samples the gateway process with py-spy (only
on-CPU samples) and splits the measured CPU ms/request by operation: auth, rate limit,
tenant lookup, insert, enqueue, validation, logging, metrics, framework, event loop.

    .venv/bin/python -m bench.profile_gateway --duration 10
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from bench.errors import HarnessError
from bench.procs import ROOT
from bench.procstat import CpuMeter, load_average
from bench.targets import loadgen_argv, warm_up

RESULTS = ROOT / "bench" / "results"

# (category, path fragments); a sample goes to the first rule matched walking its stack
# from the innermost frame outwards, so library code is charged to its caller's operation
# only when the library itself has no rule (e.g. json inside botocore -> enqueue).
Rules = tuple[tuple[str, tuple[str, ...]], ...]
RULES: Rules = (
    ("logging", ("/structlog/", "/logging/", "/app/logging.py")),
    ("metrics", ("/prometheus_client/", "/app/gateway/metrics.py")),
    ("auth (JWT / API key)", ("/app/auth/", "/jwt/", "/app/gateway/deps.py")),
    ("rate limit (Redis)", ("/app/ratelimit/", "/redis/")),
    ("insert (PostgreSQL)", ("/app/db/requests.py",)),
    ("tenant lookup", ("/app/db/accounts.py", "/app/gateway/state.py")),
    ("database driver (SQLAlchemy/asyncpg)", ("/sqlalchemy/", "/asyncpg/")),
    ("enqueue (SQS batch)", ("/app/queue/", "/aiobotocore/", "/botocore/", "/aiohttp/")),
    ("validation (pydantic)", ("/app/gateway/validation.py", "/pydantic/", "/pydantic_core/")),
    ("gateway handler", ("/app/gateway/",)),
    ("framework (FastAPI/Starlette/uvicorn)", ("/fastapi/", "/starlette/", "/uvicorn/")),
)
OTHER = "event loop / other"


def classify(stack: str, rules: Rules = RULES) -> str:
    """The operation a collapsed stack ('f (file:line);g (file:line)') belongs to."""
    for frame in reversed(stack.split(";")):
        # py-spy prints site-packages paths relative ("jwt/api_jwt.py"): anchor them.
        where = "/" + frame[frame.rfind("(") + 1 :]
        for category, fragments in rules:
            if any(fragment in where for fragment in fragments):
                return category
    return OTHER


def breakdown(raw: str, *, cpu_ms_per_request: float, rules: Rules = RULES) -> list[dict[str, Any]]:
    """Share of samples and CPU ms/request per operation from py-spy's raw output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[classify(stack, rules)] += int(count)
    total = sum(counts.values()) or 1
    rows = [
        {
            "operation": name,
            "samples": n,
            "share": round(n / total, 4),
            "cpu_ms_per_request": round(cpu_ms_per_request * n / total, 4),
        }
        for name, n in counts.most_common()
    ]
    return rows


def py_spy() -> str:
    found = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    if not Path(found).exists():
        raise HarnessError("py-spy is not installed; .venv/bin/pip install py-spy==0.4.1")
    return found


def profile(stack: Any, *, duration: float, concurrency: int, out_dir: Path) -> dict[str, Any]:
    """Sample the gateway under load; returns CPU/request and the per-operation split."""
    from bench.gateway_bench import gateway_target

    target = gateway_target(stack)
    warm_up(target, concurrency=concurrency)
    stack.settle_queue()
    raw_path = out_dir / "gateway-pyspy.txt"
    out_dir.mkdir(parents=True, exist_ok=True)
    meter = CpuMeter(target.pid)
    load = load_average()
    spy_argv = [py_spy(), "record", "-p", str(target.pid), "-d", str(int(duration) + 2)]
    spy_argv += ["-r", "250", "-f", "raw", "-o", str(raw_path), "--nonblocking"]
    spy = subprocess.Popen(spy_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meter.start()
    argv = loadgen_argv(target, concurrency=concurrency, duration=duration)
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    meter.stop()
    spy.wait(timeout=duration + 60)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    cpu_ms = meter.ms_per(summary["ok"])
    return {
        "load": summary,
        "cpu_ms_per_ok": round(cpu_ms, 4),
        "load_average_before": [round(x, 2) for x in load],
        "note": "CPU measured while py-spy sampled (--nonblocking adds little overhead)",
        "breakdown": breakdown(raw_path.read_text(), cpu_ms_per_request=cpu_ms),
        "raw_profile": str(raw_path.relative_to(ROOT)),
    }


def main(argv: list[str] | None = None) -> None:
    from bench.gateway_bench import draining
    from bench.stack import StackOptions, running_stack

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--out", type=Path, default=RESULTS / "gateway-profile.json")
    args = parser.parse_args(argv)
    log_dir = RESULTS / "tmp" / "profile"
    with running_stack(StackOptions(log_level=args.log_level), log_dir) as stack, draining(stack):
        result = profile(
            stack, duration=args.duration, concurrency=args.concurrency, out_dir=log_dir
        )
    result["log_level"] = args.log_level
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
