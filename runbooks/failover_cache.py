"""`agatha failover cache`: promote a Redis replica of the ElastiCache replication group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbooks.context import OpsContext
from runbooks.errors import PreconditionFailed
from runbooks.procedure import run_procedure
from runbooks.steps import Step

ACTION = "failover cache"


@dataclass(frozen=True)
class GroupState:
    status: str
    node_group_id: str
    primary: str | None
    replicas: tuple[str, ...]
    automatic_failover: bool


def read_group(ctx: OpsContext, group_id: str) -> GroupState:
    """Primary and replicas of a cluster-mode-disabled replication group."""
    group = ctx.aws.call(
        "elasticache", "describe_replication_groups", resource=group_id, ReplicationGroupId=group_id
    )["ReplicationGroups"][0]
    node_groups = group.get("NodeGroups", [])
    if len(node_groups) != 1:
        raise PreconditionFailed(
            f"{group_id} has {len(node_groups)} node groups; this runbook handles one (cluster "
            "mode disabled). Use the ElastiCache console's per-shard failover instead."
        )
    members = node_groups[0].get("NodeGroupMembers", [])
    return GroupState(
        status=str(group.get("Status", "unknown")),
        node_group_id=str(node_groups[0]["NodeGroupId"]),
        primary=next(
            (m["CacheClusterId"] for m in members if m.get("CurrentRole") == "primary"), None
        ),
        replicas=tuple(
            sorted(m["CacheClusterId"] for m in members if m.get("CurrentRole") == "replica")
        ),
        automatic_failover=group.get("AutomaticFailover") == "enabled",
    )


def do_failover_cache(
    ctx: OpsContext, *, target: str | None = None, timeout: float = 900
) -> dict[str, Any]:
    """Fail the replication group over (test_failover, or promote ``target``) and wait."""
    group_id = ctx.outputs.get("cache-replication-group-id")
    before = read_group(ctx, group_id)
    if target and target == before.primary:
        chosen: str | None = target
    elif target and target not in before.replicas:
        raise PreconditionFailed(
            f"{target} is not a replica of {group_id} (replicas: "
            f"{', '.join(before.replicas) or 'none'}); choose one of them"
        )
    elif not before.replicas:
        raise PreconditionFailed(
            f"{group_id} has no replica to fail over to: set "
            "cacheReplicas >= 1 in the stack config and run pulumi up"
        )
    elif before.status != "available":
        raise PreconditionFailed(f"{group_id} is {before.status}; wait until it is available")
    else:
        chosen = target
    # Without a target and with Multi-AZ automatic failover on, AWS picks the replica
    # (test_failover); otherwise we promote a named replica with PrimaryClusterId.
    use_test_failover = chosen is None and before.automatic_failover
    promoted = chosen or before.replicas[0]

    def done() -> tuple[bool, str]:
        now = read_group(ctx, group_id)
        moved = now.primary == chosen if chosen else now.primary != before.primary
        return moved and now.status == "available", f"primary={now.primary} status={now.status}"

    def failover() -> None:
        if use_test_failover:
            ctx.aws.call(
                "elasticache",
                "test_failover",
                resource=group_id,
                ReplicationGroupId=group_id,
                NodeGroupId=before.node_group_id,
            )
        else:
            ctx.aws.call(
                "elasticache",
                "modify_replication_group",
                resource=group_id,
                ReplicationGroupId=group_id,
                PrimaryClusterId=promoted,
                ApplyImmediately=True,
            )

    def wait() -> None:
        ctx.waiter.until(
            done,
            what=f"new primary of {group_id}",
            timeout=timeout,
            fix="check the replication group's events; re-run to keep waiting",
        )

    how = (
        f"test_failover {group_id} node group {before.node_group_id}"
        if use_test_failover
        else f"modify_replication_group {group_id} PrimaryClusterId={promoted}"
    )
    steps = [
        Step(
            "failover",
            f"{how} (primary was {before.primary})",
            failover,
            verify=(lambda: read_group(ctx, group_id).primary == chosen) if chosen else None,
        ),
        Step("wait", "wait until the new primary serves and the group is available", wait),
    ]

    def summarize() -> dict[str, Any]:
        after = read_group(ctx, group_id)
        return {
            "previous_primary": before.primary,
            "primary": after.primary,
            "replicas": list(after.replicas),
            "group_status": after.status,
        }

    return run_procedure(
        ctx, action=ACTION, target=f"{group_id} ({how})", steps=steps, summarize=summarize
    )
