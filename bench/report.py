"""Markdown tables for docs/ from the JSON results (prints them; the docs paste them).

.venv/bin/python -m bench.report drills bench/results/drills.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
    return str(value)


def _lost(drill: dict[str, Any]) -> str:
    if not drill["lost"]:
        return "0"
    return f"{drill['lost']} ({_fmt(drill['not_terminal'])} at the end of the settle time)"


def drills_table(data: dict[str, Any]) -> str:
    head = (
        "| drill | fault | accepted | completed | failed (reason) | lost | completed, not"
        " archived | duplicated provider calls | clients saw | 429/503 without Retry-After"
        " | hangs |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = [
        f"| {d['drill']} | {d['detail']} | {d['accepted']} | {d['completed']} | "
        f"{_fmt(d['failed'])} | {_lost(d)} | {d.get('completed_not_archived', '-')} | "
        f"{d['duplicated_provider_calls']} | {_fmt(d['client_statuses'])} | "
        f"{d['refused_without_retry_after']} | {d['client_timeouts (hangs)']} |"
        for d in data["drills"]
    ]
    return head + "\n".join(rows)


def bad_inputs_table(data: dict[str, Any]) -> str:
    head = "| case | expected | got | error code | as documented |\n|---|---|---|---|---|\n"
    rows = [
        f"| {c['case']} | {'/'.join(map(str, c['expected']))} | {c['status']} | "
        f"{c['code'] or '-'} | {'yes' if c['ok'] else '**no**'} |"
        for c in data["cases"]
    ]
    tail = (
        f"\n\nRows added: {data['rows_added']}, messages added: {data['messages_added']}, "
        f"accepted on purpose: {data['accepted_on_purpose']} -> nothing else stored: "
        f"{data['nothing_else_stored']}."
    )
    return head + "\n".join(rows) + tail


def ratelimit_table(data: dict[str, Any]) -> str:
    return (
        "| gateways | limit/min | sent | admitted | 429 | bound with refill | within bound |"
        " 429 without Retry-After |\n|---|---|---|---|---|---|---|---|\n"
        f"| {data['gateways']} | {data['limit_per_minute']} | {data['sent']} | "
        f"{data['admitted']} | {data['refused_429']} | {data['bound_with_refill']} "
        f"({data['burst_seconds']} s burst) | {data['within_bound']} | "
        f"{data['429_without_retry_after']} |"
    )


TABLES: dict[str, Callable[[dict[str, Any]], str]] = {
    "drills": drills_table,
    "bad_inputs": bad_inputs_table,
    "ratelimit": ratelimit_table,
}


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2 or args[0] not in TABLES:
        raise SystemExit(f"usage: python -m bench.report {{{','.join(TABLES)}}} RESULT.json")
    print(TABLES[args[0]](json.loads(Path(args[1]).read_text())))


if __name__ == "__main__":
    main()
