"""Rendering a result dict as JSON or rich tables on stdout (logs go to stderr)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any


def render(data: Mapping[str, Any], *, output: str) -> None:
    """Print ``data``: ``json`` verbatim, ``table`` as a key/value table plus one per list."""
    if output == "json":
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, soft_wrap=True)
    scalars = Table(show_header=False, box=None)
    scalars.add_column("key", style="bold")
    scalars.add_column("value")
    for key, value in data.items():
        if not _is_rows(value):
            scalars.add_row(str(key), _cell(value))
    console.print(scalars)
    for key, value in data.items():
        if _is_rows(value) and value:
            columns = list(dict.fromkeys(k for row in value for k in row))
            table = Table(title=str(key), title_justify="left")
            for column in columns:
                table.add_column(column)
            for row in value:
                table.add_row(*(_cell(row.get(c, "")) for c in columns))
            console.print(table)


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)


def _cell(value: Any) -> str:
    if isinstance(value, Mapping | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)
