"""`agatha failover database`: Aurora cluster failover to a chosen or the best replica."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runbooks.context import OpsContext
from runbooks.errors import PreconditionFailed
from runbooks.procedure import run_procedure
from runbooks.steps import Step

ACTION = "failover database"


@dataclass(frozen=True)
class ClusterState:
    status: str
    writer: str | None
    readers: tuple[str, ...]
    instance_status: dict[str, str]
    promotion_tier: dict[str, int]


def read_cluster(ctx: OpsContext, cluster_id: str) -> ClusterState:
    """Writer, readers and member statuses of an Aurora cluster."""
    cluster = ctx.aws.call(
        "rds", "describe_db_clusters", resource=cluster_id, DBClusterIdentifier=cluster_id
    )["DBClusters"][0]
    members = cluster.get("DBClusterMembers", [])
    instances = ctx.aws.call(
        "rds",
        "describe_db_instances",
        resource=cluster_id,
        Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}],
    )["DBInstances"]
    return ClusterState(
        status=str(cluster.get("Status", "unknown")),
        writer=next((m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")), None),
        readers=tuple(
            sorted(m["DBInstanceIdentifier"] for m in members if not m.get("IsClusterWriter"))
        ),
        instance_status={
            i["DBInstanceIdentifier"]: str(i.get("DBInstanceStatus", "unknown")) for i in instances
        },
        promotion_tier={
            m["DBInstanceIdentifier"]: int(m.get("PromotionTier", 15)) for m in members
        },
    )


def choose_target(state: ClusterState, requested: str | None) -> str:
    """The requested reader, or the available reader with the best (lowest) promotion tier."""
    available = [r for r in state.readers if state.instance_status.get(r) == "available"]
    if requested:
        if requested == state.writer:
            return requested  # already the writer: the steps see it as done
        if requested not in state.readers:
            raise PreconditionFailed(
                f"{requested} is not a reader of this cluster (readers: "
                f"{', '.join(state.readers) or 'none'}); pick one of them with --target"
            )
        if requested not in available:
            raise PreconditionFailed(
                f"reader {requested} is {state.instance_status.get(requested)}, not available; "
                "wait for it or choose another --target"
            )
        return requested
    if not available:
        raise PreconditionFailed(
            "the cluster has no available reader to fail over to: add a reader instance "
            "(dbInstanceCount >= 2) or wait until one is available"
        )
    return min(available, key=lambda r: (state.promotion_tier.get(r, 15), r))


def do_failover_database(
    ctx: OpsContext, *, target: str | None = None, timeout: float = 900
) -> dict[str, Any]:
    """Fail the Aurora cluster over and wait until the new writer is available."""
    cluster_id = ctx.outputs.get("db-cluster-id")
    before = read_cluster(ctx, cluster_id)
    if before.status != "available" and before.writer != target:
        raise PreconditionFailed(
            f"cluster {cluster_id} is {before.status}, not available (a failover or change may "
            "be in progress); wait for `agatha status` to show it available, then re-run"
        )
    chosen = choose_target(before, target)

    def settled() -> tuple[bool, str]:
        now = read_cluster(ctx, cluster_id)
        ok = (
            now.writer == chosen
            and now.status == "available"
            and all(s == "available" for s in now.instance_status.values())
        )
        return ok, f"writer={now.writer} cluster={now.status}"

    def failover() -> None:
        ctx.aws.call(
            "rds",
            "failover_db_cluster",
            resource=cluster_id,
            DBClusterIdentifier=cluster_id,
            TargetDBInstanceIdentifier=chosen,
        )

    def wait() -> None:
        ctx.waiter.until(
            settled,
            what=f"{chosen} to become the writer of {cluster_id}",
            timeout=timeout,
            fix="check the cluster's events in the RDS console; "
            f"re-run with --target {chosen} to keep waiting",
        )

    steps = [
        Step(
            "failover",
            f"failover_db_cluster {cluster_id} -> {chosen} (was {before.writer})",
            failover,
            verify=lambda: read_cluster(ctx, cluster_id).writer == chosen,
        ),
        Step(
            "wait",
            f"wait until {chosen} is writer and every instance is available",
            wait,
            verify=lambda: settled()[0],
        ),
    ]

    def summarize() -> dict[str, Any]:
        after = read_cluster(ctx, cluster_id)
        return {
            "previous_writer": before.writer,
            "writer": after.writer,
            "readers": list(after.readers),
            "cluster_status": after.status,
        }

    return run_procedure(
        ctx,
        action=ACTION,
        target=f"{cluster_id} -> {chosen}",
        steps=steps,
        summarize=summarize,
        resume_hint=f"To resume use: agatha failover database --target {chosen}",
    )
