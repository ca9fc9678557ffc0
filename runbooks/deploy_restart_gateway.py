"""`agatha deploy restart gateway`: force a new ECS deployment and wait for steady state."""

from __future__ import annotations

from typing import Any

from runbooks.context import OpsContext
from runbooks.errors import VerificationFailed
from runbooks.procedure import run_procedure
from runbooks.steps import Step

ACTION = "deploy restart gateway"


def describe_service(ctx: OpsContext, cluster: str, service: str) -> dict[str, Any]:
    """The ECS service description."""
    services = ctx.aws.call(
        "ecs",
        "describe_services",
        resource=f"{cluster}/{service}",
        cluster=cluster,
        services=[service],
    )["services"]
    if not services:
        raise VerificationFailed(f"ECS service {cluster}/{service} not found; check --stack")
    found: dict[str, Any] = services[0]
    return found


def rollout_state(service: dict[str, Any]) -> tuple[bool, str]:
    """Whether the service settled on one deployment with all tasks running."""
    deployments = service.get("deployments", [])
    primary: dict[str, Any] = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    rollout = primary.get("rolloutState")
    if rollout == "FAILED":
        events = "; ".join(e.get("message", "") for e in service.get("events", [])[:3])
        raise VerificationFailed(
            f"deployment {primary.get('id')} FAILED: {primary.get('rolloutStateReason', '')}. "
            f"Recent events: {events or 'none'}. The circuit breaker keeps or restores the "
            "previous tasks; check the gateway logs before retrying."
        )
    running, desired = primary.get("runningCount", 0), primary.get("desiredCount", 0)
    settled = len(deployments) == 1 and running == desired and rollout in (None, "COMPLETED")
    return settled, f"{len(deployments)} deployment(s), {running}/{desired} running, {rollout}"


def do_restart_gateway(ctx: OpsContext, *, timeout: float = 900) -> dict[str, Any]:
    """Start a fresh deployment of the gateway service and wait until it is steady."""
    cluster = ctx.outputs.get("ecs-cluster-name")
    service = ctx.outputs.get("gateway-service-name")
    state: dict[str, Any] = {}

    def restart() -> None:
        updated = ctx.aws.call(
            "ecs",
            "update_service",
            resource=f"{cluster}/{service}",
            cluster=cluster,
            service=service,
            forceNewDeployment=True,
        )
        primary: dict[str, Any] = next(
            (d for d in updated["service"].get("deployments", []) if d.get("status") == "PRIMARY"),
            {},
        )
        state["deployment_id"] = primary.get("id")

    def wait() -> None:
        ctx.waiter.until(
            lambda: rollout_state(describe_service(ctx, cluster, service)),
            what=f"gateway service {service} to settle",
            timeout=timeout,
            fix="check `aws ecs describe-services` events and the gateway logs; "
            "old tasks keep serving until new ones are healthy",
        )

    steps = [
        Step(
            "force-new-deployment",
            f"update_service {cluster}/{service} forceNewDeployment",
            restart,
        ),
        Step("wait-steady", "wait for one deployment with all tasks running", wait),
    ]

    def summarize() -> dict[str, Any]:
        current = describe_service(ctx, cluster, service)
        return {
            "deployment_id": state.get("deployment_id"),
            "running": current.get("runningCount"),
            "desired": current.get("desiredCount"),
        }

    return run_procedure(
        ctx, action=ACTION, target=f"{cluster}/{service}", steps=steps, summarize=summarize
    )
