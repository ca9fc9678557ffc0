"""Text and JSON renderings of cost reports, single and side by side."""

from __future__ import annotations

import json

from agatha.cost.estimate import CostReport


def render_text(report: CostReport) -> str:
    """Lines per layer and resource, a total, the not-priced list and the assumptions."""
    out = [f"Estimated monthly cost of stack '{report.stack}' (USD, prices as of {report.as_of})"]
    for layer, total in report.by_layer().items():
        out.append(f"\n{layer:<12} {total:>12,.2f}")
        for line in (x for x in report.lines if x.layer == layer and x.monthly_usd >= 0.005):
            out.append(
                f"  {line.resource[:44]:<44} {line.item[:34]:<34} {line.monthly_usd:>10,.2f}"
            )
    out.append(f"\n{'TOTAL':<12} {report.total:>12,.2f}")
    if report.not_priced:
        out.append("\nNot priced (not included in the total):")
        out.extend(f"  {name} ({type_}): {reason}" for name, type_, reason in report.not_priced)
    out.append("\nAssumptions:")
    out.extend(f"  {key}: {value:g}" for key, value in report.assumptions.items())
    return "\n".join(out)


def render_compare(reports: list[CostReport]) -> str:
    """Per-layer totals of several stacks side by side."""
    layers = sorted({layer for r in reports for layer in r.by_layer()})
    header = f"{'layer':<12}" + "".join(f"{r.stack:>14}" for r in reports)
    rows = [header, "-" * len(header)]
    for layer in layers:
        rows.append(
            f"{layer:<12}" + "".join(f"{r.by_layer().get(layer, 0.0):>14,.2f}" for r in reports)
        )
    rows.append("-" * len(header))
    rows.append(f"{'TOTAL':<12}" + "".join(f"{r.total:>14,.2f}" for r in reports))
    return "\n".join(rows)


def render_json(reports: list[CostReport]) -> str:
    """One report as an object, several as a list."""
    documents = [r.to_json() for r in reports]
    return json.dumps(documents[0] if len(documents) == 1 else documents, indent=2)
