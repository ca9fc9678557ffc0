"""Pure helpers of the Redis module."""

from __future__ import annotations

from components.data_cache import cache_node_count


def test_cache_node_count_is_primary_plus_replicas() -> None:
    assert cache_node_count(0) == 1
    assert cache_node_count(2) == 3
