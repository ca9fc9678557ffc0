"""Accept path vs the floor vs LiteLLM, in one run: CPU ms/request, req/s, p50/p99, sweep.

    .venv/bin/python -m bench.gateway_bench                  # full run (~3 minutes)
    .venv/bin/python -m bench.gateway_bench --no-litellm --duration 3 --rates 50,100

Writes bench/results/gateway.json and docs/img/gateway-latency-vs-load.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import PYTHON, ROOT, Procs, free_port, wait_for_port
from bench.stack import MODEL, UVICORN, UVICORN_TAIL, Stack, StackOptions, running_stack
from bench.targets import Target, measure, warm_up

RESULTS = ROOT / "bench" / "results"
PLOT = ROOT / "docs" / "img" / "gateway-latency-vs-load.png"
GATEWAY_BODY = json.dumps({"prompt": "Summarise request {i} in one line.", "model": MODEL})
CHAT_BODY = json.dumps(
    {"model": MODEL, "messages": [{"role": "user", "content": "Summarise request {i}."}]}
)


@dataclass(frozen=True)
class BenchOptions:
    concurrency: int = 32
    duration: float = 8.0
    rates: tuple[float, ...] = (50, 100, 200, 400, 800)
    sweep_duration: float = 4.0
    litellm: bool = True
    out: Path = RESULTS / "gateway.json"
    plot: Path | None = PLOT


def machine_facts() -> dict[str, Any]:
    """What the figures were taken on (recorded with every result file)."""
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "taken_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def start_floor(registry: Procs) -> Target:
    port = free_port()
    argv = [*UVICORN, "--port", str(port), *UVICORN_TAIL, "--factory", "bench.floor:create_app"]
    proc = registry.spawn("floor", argv)
    wait_for_port(port, timeout=60, proc=proc)
    return Target(
        "floor (bare FastAPI 202)", f"http://127.0.0.1:{port}/api/inference", proc.pid, GATEWAY_BODY
    )


def start_litellm(registry: Procs, log_dir: Path) -> Target:
    from bench import litellm_env

    litellm_env.ensure_venv()
    fake_port = free_port()
    fake = registry.spawn(
        "fake-upstream-litellm",
        [PYTHON, "-m", "bench.fakes", "--port", str(fake_port), "--latency", "0"],
    )
    wait_for_port(fake_port, timeout=60, proc=fake)
    key = litellm_env.new_master_key()
    config = litellm_env.write_config(
        log_dir / "litellm.yaml",
        upstream_url=f"http://127.0.0.1:{fake_port}",
        master_key=key,
        model=MODEL,
    )
    port = free_port()
    proc = litellm_env.start_proxy(registry, port=port, config=config)
    return Target(
        f"LiteLLM proxy {litellm_env.LITELLM_VERSION}",
        f"http://127.0.0.1:{port}/chat/completions",
        proc.pid,
        CHAT_BODY,
        {"Authorization": f"Bearer {key}"},
        tree=True,
    )


def gateway_target(stack: Stack) -> Target:
    proc, _ = stack.gateways[0]
    return Target(
        "agatha gateway (accept path)",
        f"{stack.gateway_url}/api/inference",
        proc.pid,
        GATEWAY_BODY,
        stack.headers(),
    )


@contextmanager
def draining(stack: Stack) -> Iterator[None]:
    """A consumer that keeps the job queue shallow while the gateway is measured."""
    argv = [
        PYTHON,
        "-m",
        "bench.drain",
        "--endpoint",
        stack.env["AWS_ENDPOINT_URL"],
        "--queue-url",
        stack.env["QUEUE_URL"],
    ]
    proc = stack.registry.spawn("drain", argv)
    try:
        yield
    finally:
        proc.stop()


def run_targets(targets: list[Target], options: BenchOptions, stack: Stack) -> dict[str, Any]:
    """Closed loop at fixed concurrency, then the open-loop sweep, target by target."""
    fixed: list[dict[str, Any]] = []
    sweep: list[dict[str, Any]] = []
    for target in targets:
        warm_up(target, concurrency=options.concurrency)
        stack.settle_queue()
        fixed.append(measure(target, concurrency=options.concurrency, duration=options.duration))
        print(json.dumps(fixed[-1]), flush=True)
        for rate in options.rates:
            stack.settle_queue()
            point = measure(target, concurrency=256, duration=options.sweep_duration, rate=rate)
            sweep.append(point)
            print(
                json.dumps(
                    {
                        k: point[k]
                        for k in ("target", "offered_rate", "ok_per_second", "latency_all")
                    }
                ),
                flush=True,
            )
    return {"fixed_concurrency": fixed, "sweep": sweep}


def queue_batch_stats(gateway_url: str) -> dict[str, float]:
    """SendMessageBatch calls and mean messages per call over the run (gateway /metrics)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{gateway_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "agatha_queue_batch_messages"
        for sample in family.samples
        if sample.name.endswith(("_sum", "_count"))
    }
    calls = values.get("agatha_queue_batch_messages_count", 0.0)
    messages = values.get("agatha_queue_batch_messages_sum", 0.0)
    return {
        "calls": calls,
        "messages": messages,
        "mean_batch": round(messages / calls, 2) if calls else 0.0,
    }


def run(options: BenchOptions) -> dict[str, Any]:
    log_dir = RESULTS / "tmp" / "gateway"
    result: dict[str, Any] = {
        "machine": machine_facts(),
        "options": {k: str(v) for k, v in options.__dict__.items()},
    }
    with running_stack(StackOptions(), log_dir) as stack, draining(stack):
        targets = [start_floor(stack.registry), gateway_target(stack)]
        if options.litellm:
            targets.append(start_litellm(stack.registry, log_dir))
        result |= run_targets(targets, options, stack)
        result["queue_after"] = stack.queue_depth()
        result["gateway_queue_batches"] = queue_batch_stats(stack.gateway_url)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(result, indent=2))
    if options.plot is not None:
        from bench.plots import latency_vs_load

        latency_vs_load(result["sweep"], options.plot)
    return result


def parse_args(argv: list[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--rates", default="50,100,200,400,800")
    parser.add_argument("--sweep-duration", type=float, default=4.0)
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "gateway.json")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    return BenchOptions(
        concurrency=args.concurrency,
        duration=args.duration,
        rates=tuple(float(r) for r in args.rates.split(",") if r),
        sweep_duration=args.sweep_duration,
        litellm=not args.no_litellm,
        out=args.out,
        plot=None if args.no_plot else args.plot,
    )


def main(argv: list[str] | None = None) -> None:
    run(parse_args(argv))


if __name__ == "__main__":
    main()
