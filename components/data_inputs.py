"""What the data layer needs from other layers, and pure helpers shared by its modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pulumi


class NetworkOutputs(Protocol):
    """The attributes of ``components.network.Network`` that the data layer reads."""

    @property
    def availability_zones(self) -> pulumi.Input[Sequence[str]]: ...

    @property
    def db_subnet_group_name(self) -> pulumi.Input[str]: ...

    @property
    def cache_subnet_group_name(self) -> pulumi.Input[str]: ...

    @property
    def database_security_group_id(self) -> pulumi.Input[str]: ...

    @property
    def cache_security_group_id(self) -> pulumi.Input[str]: ...


def spread_over_zones(zones: Sequence[str], count: int) -> list[str]:
    """``count`` placements cycling through ``zones`` so neighbours never share an AZ."""
    if not zones:
        raise ValueError(
            "the network reported no availability zones; set availabilityZones in the "
            "stack file or check the AZ lookup of the network layer"
        )
    return [zones[index % len(zones)] for index in range(count)]


def nth_zone(zones: Sequence[str], index: int) -> str:
    """The AZ of the ``index``-th member when members are spread over ``zones``."""
    return spread_over_zones(zones, index + 1)[index]
