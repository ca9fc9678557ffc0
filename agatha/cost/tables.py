"""Loading the dated price table and a stack's usage assumptions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agatha.errors import AgathaError

DATA_DIR = Path(__file__).resolve().parent
PRICE_FILE = DATA_DIR / "prices_us_east_1.yaml"
USAGE_DIR = DATA_DIR / "usage"


class CostInputError(AgathaError):
    """A price table or usage file is missing or malformed."""


@dataclass(frozen=True)
class CostInputs:
    """Prices and usage assumptions for one estimate."""

    prices: dict[str, Any]
    usage: dict[str, float]
    usage_file: Path

    def price(self, key: str) -> float:
        """One scalar price; a missing key is a table error, not a zero."""
        try:
            return float(self.prices[key])
        except KeyError as exc:
            raise CostInputError(f"price '{key}' missing from {PRICE_FILE.name}") from exc

    def use(self, key: str) -> float:
        """One usage assumption; a missing key is a usage-file error, not a zero."""
        try:
            return float(self.usage[key])
        except KeyError as exc:
            raise CostInputError(
                f"usage assumption '{key}' missing from {self.usage_file}; add it to that file"
            ) from exc


def load_inputs(stack: str, *, usage_dir: Path = USAGE_DIR) -> CostInputs:
    """Prices plus ``usage/<stack>.yaml``."""
    usage_file = usage_dir / f"{stack}.yaml"
    if not usage_file.exists():
        raise CostInputError(
            f"no usage assumptions for stack '{stack}': create {usage_file} "
            f"(copy usage/dev.yaml and edit the numbers)"
        )
    return CostInputs(prices=_read(PRICE_FILE), usage=_read(usage_file), usage_file=usage_file)


def _read(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CostInputError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise CostInputError(f"{path} must be a mapping of names to numbers")
    return loaded
