"""Pure helpers shared by the data modules."""

from __future__ import annotations

import pytest

from components.data_inputs import nth_zone, spread_over_zones


def test_spread_over_zones_cycles_so_neighbours_differ() -> None:
    zones = ["a", "b", "c"]
    assert spread_over_zones(zones, 2) == ["a", "b"]
    assert spread_over_zones(zones, 4) == ["a", "b", "c", "a"]
    assert [nth_zone(zones, i) for i in range(3)] == zones


def test_spread_over_no_zones_names_the_fix() -> None:
    with pytest.raises(ValueError, match="availabilityZones"):
        spread_over_zones([], 2)
