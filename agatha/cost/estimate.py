"""Turn a planned stack into a monthly estimate: lines per layer, a total, what was not priced."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from agatha.cost.pricing import FREE_TYPES, PRICERS, CostLine
from agatha.cost.tables import CostInputs
from agatha.plan.graph import ResourceGraph


@dataclass
class CostReport:
    """A stack's monthly estimate with the assumptions it rests on."""

    stack: str
    as_of: str
    lines: list[CostLine] = field(default_factory=list)
    not_priced: list[tuple[str, str, str]] = field(default_factory=list)
    assumptions: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)

    def by_layer(self) -> dict[str, float]:
        """Monthly total per layer, largest first."""
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.layer] = totals.get(line.layer, 0.0) + line.monthly_usd
        return dict(sorted(((k, round(v, 2)) for k, v in totals.items()), key=lambda kv: -kv[1]))

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "pricesAsOf": self.as_of,
            "currency": "USD",
            "monthlyTotal": self.total,
            "byLayer": self.by_layer(),
            "lines": [
                asdict(line) | {"monthly_usd": round(line.monthly_usd, 2)} for line in self.lines
            ],
            "notPriced": [
                {"resource": n, "type": t, "reason": reason} for n, t, reason in self.not_priced
            ],
            "assumptions": self.assumptions,
        }


def estimate(graph: ResourceGraph, inputs: CostInputs) -> CostReport:
    """Price every custom resource of ``graph``; nothing unknown is silently zero."""
    report = CostReport(
        stack=graph.stack, as_of=str(inputs.prices.get("as_of", "?")), assumptions=inputs.usage
    )
    for resource in graph:
        if not resource.custom or resource.type in FREE_TYPES:
            continue
        pricer = PRICERS.get(resource.type)
        if pricer is None:
            report.not_priced.append((resource.name, resource.type, _reason(resource.type)))
            continue
        items = pricer(resource, graph, inputs)
        if not items:
            report.not_priced.append(
                (resource.name, resource.type, "size not in the price table: add it")
            )
        layer = graph.layer_of(resource)
        for item, usd in items:
            report.lines.append(CostLine(resource.name, resource.type, layer, item, usd))
    return report


def _reason(type_token: str) -> str:
    provider = type_token.split(":", maxsplit=1)[0]
    if provider in ("cloudflare", "datadog"):
        return f"billed by the {provider} plan, not per resource"
    return "no pricing rule for this type"
