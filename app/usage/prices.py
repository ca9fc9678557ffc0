"""Dated list prices per model (USD per 1M tokens, input/output) and cost estimates.

Prices change: each entry names where it came from and the day it was read. Update an
entry by adding the new price with a newer ``as_of``; estimates use the newest entry not
after the usage day, so past usage keeps the price that applied then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.000001")  # usage_events.cost_usd is Numeric(12, 6)


@dataclass(frozen=True)
class ModelPrice:
    """List price of one model from one day on."""

    model: str
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    as_of: date
    source: str


OPENAI = "https://openai.com/api/pricing/"
ANTHROPIC = "https://www.anthropic.com/pricing#api"
TOGETHER = "https://www.together.ai/pricing"
GOOGLE = "https://ai.google.dev/gemini-api/docs/pricing"


def _p(model: str, inp: str, out: str, as_of: date, source: str) -> ModelPrice:
    return ModelPrice(model, Decimal(inp), Decimal(out), as_of, source)


def default_prices() -> tuple[ModelPrice, ...]:
    """The repo's price table (standard, non-batch, text tokens)."""
    day = date(2025, 1, 15)
    return (
        _p("gpt-4o-mini", "0.15", "0.60", day, OPENAI),
        _p("gpt-4o", "2.50", "10.00", day, OPENAI),
        _p("claude-3-5-haiku", "0.80", "4.00", day, ANTHROPIC),
        _p("claude-3-5-sonnet", "3.00", "15.00", day, ANTHROPIC),
        _p("meta-llama/Llama-3.3-70B-Instruct-Turbo", "0.88", "0.88", day, TOGETHER),
        _p("gemini-2.0-flash", "0.10", "0.40", day, GOOGLE),
        _p("local-echo", "0", "0", day, "local deterministic provider: free"),
    )


class PriceTable:
    """Looks up the price of a model on a day and estimates the cost of a request."""

    def __init__(self, prices: Iterable[ModelPrice]) -> None:
        self._by_model: dict[str, list[ModelPrice]] = {}
        for price in sorted(prices, key=lambda p: p.as_of):
            self._by_model.setdefault(price.model, []).append(price)

    def price(self, model: str, *, on: date) -> ModelPrice | None:
        """The newest price of ``model`` in force on ``on`` (None when unknown)."""
        in_force = [p for p in self._by_model.get(model, []) if p.as_of <= on]
        return in_force[-1] if in_force else None

    def estimate(self, model: str, *, tokens_in: int, tokens_out: int, on: date) -> Decimal | None:
        """Estimated USD cost (6 decimals), or None when the model has no price."""
        price = self.price(model, on=on)
        if price is None:
            return None
        cost = (
            Decimal(tokens_in) * price.input_per_mtok + Decimal(tokens_out) * price.output_per_mtok
        ) / MILLION
        return cost.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
