"""Rate-limit accuracy: N gateway processes share one Redis limit; admitted == the limit.

The tenant gets LIMIT requests per minute; 3x LIMIT requests are fired at once,
round-robin over the gateways. A token bucket refills while the burst runs, so the
exact bound is LIMIT + LIMIT * elapsed / 60 (reported next to the admitted count).

    .venv/bin/python -m bench.ratelimit_accuracy --gateways 3 --limit 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import ROOT
from bench.stack import MODEL, Stack, StackOptions, running_stack

RESULTS = ROOT / "bench" / "results"


async def burst(stack: Stack, total: int) -> tuple[Counter[int], float, int]:
    """Fire ``total`` requests round-robin; (statuses, seconds, 429s lacking Retry-After)."""
    urls = [f"http://127.0.0.1:{port}/api/inference" for _, port in stack.gateways]
    body = {"prompt": "rate limit probe", "model": MODEL}
    statuses: Counter[int] = Counter()
    missing_retry_after = 0
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(headers=stack.headers(), timeout=timeout) as session:

        async def one(index: int) -> None:
            nonlocal missing_retry_after
            async with session.post(urls[index % len(urls)], json=body) as response:
                await response.read()
                statuses[response.status] += 1
                if response.status == 429 and "Retry-After" not in response.headers:
                    missing_retry_after += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
    return statuses, time.perf_counter() - started, missing_retry_after


def run(gateways: int, limit: int) -> dict[str, Any]:
    options = StackOptions(gateways=gateways, tenant_rpm=limit, tenant_tpm=10**9)
    with running_stack(options, RESULTS / "tmp" / "ratelimit") as stack:
        statuses, seconds, missing = asyncio.run(burst(stack, 3 * limit))
    refill = limit * seconds / 60
    return {
        "gateways": gateways,
        "limit_per_minute": limit,
        "sent": 3 * limit,
        "admitted": statuses.get(202, 0),
        "refused_429": statuses.get(429, 0),
        "other": {str(k): v for k, v in statuses.items() if k not in (202, 429)},
        "burst_seconds": round(seconds, 2),
        "bound_with_refill": limit + math.floor(refill),
        "within_bound": limit <= statuses.get(202, 0) <= limit + math.floor(refill),
        "429_without_retry_after": missing,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=3)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--out", type=Path, default=RESULTS / "ratelimit.json")
    args = parser.parse_args(argv)
    result = run(args.gateways, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
