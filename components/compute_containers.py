"""Container definitions of the gateway task, as pure functions over resolved values.

The gateway runs read-only, as a non-root user, with writable task volumes only where a
process must write: ``/tmp`` for the app, and the three paths the ECS Exec (SSM) agent
writes to (AWS documents read-only roots as unsupported for ECS Exec; these mounts are
the workaround from aws/containers-roadmap#1359). Fargate copies the image's contents and
ownership at a mounted path into the volume, so the image pre-creates those directories
owned by the app user. Sidecars are not essential: losing telemetry must not stop traffic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GATEWAY_CONTAINER = "gateway"
GATEWAY_SERVICE = "agatha-gateway"
GATEWAY_USER = "10001"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

# The app exports OTLP/gRPC to whichever sidecar receives traces; the task's containers
# share one network namespace, so loopback reaches it and nothing outside the task can.
OTLP_GRPC_ADDRESS = "127.0.0.1:4317"

# Pinned sidecar images (public ECR: no pull permissions or NAT to Docker Hub needed).
OTEL_COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
DATADOG_AGENT_IMAGE = "public.ecr.aws/datadog/agent:7.66.1"

# volume name -> path, per container.
GATEWAY_MOUNTS: dict[str, str] = {
    "gateway-tmp": "/tmp",
    "ecs-exec-agents": "/managed-agents",
    "ecs-exec-ssm-lib": "/var/lib/amazon/ssm",
    "ecs-exec-ssm-log": "/var/log/amazon/ssm",
}
OTEL_MOUNTS: dict[str, str] = {"otel-tmp": "/tmp"}
DATADOG_MOUNTS: dict[str, str] = {
    "datadog-config": "/etc/datadog-agent",
    "datadog-run": "/opt/datadog-agent/run",
    "datadog-sockets": "/var/run/datadog",
    "datadog-logs": "/var/log/datadog",
    "datadog-tmp": "/tmp",
}


@dataclass(frozen=True)
class GatewayTaskSpec:
    """Everything the container definitions need, already resolved to plain values."""

    image: str
    port: int
    environment: Mapping[str, str]
    log_group: str
    region: str
    prometheus_remote_write_url: str | None = None
    datadog_api_key_secret_arn: str | None = None


def image_reference(repository_url: str, tag: str) -> str:
    """``repo:tag``, or ``repo@sha256:...`` when the configured tag is a digest."""
    separator = "@" if tag.startswith("sha256:") else ":"
    return f"{repository_url}{separator}{tag}"


def task_volume_names(*, prometheus: bool, datadog: bool) -> list[str]:
    """The task volumes the containers of one task definition mount."""
    names = list(GATEWAY_MOUNTS)
    if prometheus:
        names += list(OTEL_MOUNTS)
    if datadog:
        names += list(DATADOG_MOUNTS)
    return names


def task_containers(spec: GatewayTaskSpec) -> list[dict[str, Any]]:
    """The gateway container plus the sidecars the spec asks for."""
    containers = [gateway_container(spec)]
    if spec.prometheus_remote_write_url:
        containers.append(otel_collector_container(spec, spec.prometheus_remote_write_url))
    if spec.datadog_api_key_secret_arn:
        containers.append(datadog_agent_container(spec, spec.datadog_api_key_secret_arn))
    return containers


def tracing_environment(spec: GatewayTaskSpec) -> dict[str, str]:
    """Where the gateway sends traces: the Datadog agent, else the ADOT collector, else none."""
    if spec.datadog_api_key_secret_arn:
        return {
            "DD_AGENT_HOST": "127.0.0.1",
            "DD_TRACE_ENABLED": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{OTLP_GRPC_ADDRESS}",
            "OTEL_SERVICE_NAME": GATEWAY_SERVICE,
        }
    if spec.prometheus_remote_write_url:
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{OTLP_GRPC_ADDRESS}",
            "OTEL_SERVICE_NAME": GATEWAY_SERVICE,
        }
    return {}


def gateway_container(spec: GatewayTaskSpec) -> dict[str, Any]:
    """The API gateway: read-only root, non-root user, health-checked, logging to CloudWatch."""
    environment = dict(spec.environment) | tracing_environment(spec)
    probe = (
        "import urllib.request,sys; "
        f"urllib.request.urlopen('http://127.0.0.1:{spec.port}{HEALTH_PATH}')"
    )
    return _hardened(
        {
            "name": GATEWAY_CONTAINER,
            "image": spec.image,
            "essential": True,
            "user": GATEWAY_USER,
            "portMappings": [
                {
                    "name": "http",
                    "containerPort": spec.port,
                    "hostPort": spec.port,
                    "protocol": "tcp",
                    "appProtocol": "http",
                }
            ],
            "environment": _pairs(environment),
            "secrets": [],
            "mountPoints": _mounts(GATEWAY_MOUNTS),
            "healthCheck": {
                "command": ["CMD", "python", "-c", probe],
                "interval": 15,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 30,
            },
            # Lets uvicorn drain in-flight requests after SIGTERM before SIGKILL.
            "stopTimeout": 30,
            "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
            "logConfiguration": _awslogs(spec, prefix=GATEWAY_CONTAINER),
        }
    )


def otel_collector_config(
    *, remote_write_url: str, region: str, port: int, traces: bool = False
) -> str:
    """ADOT collector config: scrape the gateway's /metrics, remote-write with SigV4.

    With ``traces`` it also receives the gateway's OTLP spans and exports them to X-Ray
    (only when no Datadog agent holds the OTLP port). JSON is valid YAML, and it avoids
    ``${...}`` that the collector would expand.
    """
    config: dict[str, Any] = {
        "extensions": {"sigv4auth": {"region": region, "service": "aps"}},
        "receivers": {
            "prometheus": {
                "config": {
                    "global": {"scrape_interval": "30s", "scrape_timeout": "10s"},
                    "scrape_configs": [
                        {
                            "job_name": "agatha-gateway",
                            "metrics_path": METRICS_PATH,
                            "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
                        }
                    ],
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {
            "prometheusremotewrite": {
                "endpoint": remote_write_url,
                "auth": {"authenticator": "sigv4auth"},
            }
        },
        "service": {
            "extensions": ["sigv4auth"],
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": ["batch"],
                    "exporters": ["prometheusremotewrite"],
                }
            },
        },
    }
    if traces:
        config["receivers"]["otlp"] = {"protocols": {"grpc": {"endpoint": OTLP_GRPC_ADDRESS}}}
        config["exporters"]["awsxray"] = {"region": region}
        config["service"]["pipelines"]["traces"] = {
            "receivers": ["otlp"],
            "processors": ["batch"],
            "exporters": ["awsxray"],
        }
    return json.dumps(config, sort_keys=True)


def otel_collector_container(spec: GatewayTaskSpec, remote_write_url: str) -> dict[str, Any]:
    """AWS Distro for OpenTelemetry collector feeding Amazon Managed Prometheus."""
    config = otel_collector_config(
        remote_write_url=remote_write_url,
        region=spec.region,
        port=spec.port,
        traces=not spec.datadog_api_key_secret_arn,
    )
    return _hardened(
        {
            "name": "otel-collector",
            "image": OTEL_COLLECTOR_IMAGE,
            "essential": False,
            "user": GATEWAY_USER,
            "memoryReservation": 128,
            "environment": _pairs({"AOT_CONFIG_CONTENT": config}),
            "secrets": [],
            "mountPoints": _mounts(OTEL_MOUNTS),
            "logConfiguration": _awslogs(spec, prefix="otel-collector"),
        }
    )


def datadog_agent_container(spec: GatewayTaskSpec, api_key_secret_arn: str) -> dict[str, Any]:
    """Datadog agent for APM and metrics; ECS resolves the API key from Secrets Manager."""
    environment = {
        "ECS_FARGATE": "true",
        "DD_APM_ENABLED": "true",
        "DD_APM_NON_LOCAL_TRAFFIC": "false",
        "DD_DOGSTATSD_NON_LOCAL_TRAFFIC": "false",
        "DD_ENV": spec.environment.get("AGATHA_ENV", ""),
        "DD_SERVICE": GATEWAY_SERVICE,
        # The gateway's OpenTelemetry spans arrive over OTLP/gRPC on loopback.
        "DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT": OTLP_GRPC_ADDRESS,
    }
    return _hardened(
        {
            "name": "datadog-agent",
            "image": DATADOG_AGENT_IMAGE,
            "essential": False,
            "user": "dd-agent",
            "memoryReservation": 256,
            "environment": _pairs(environment),
            "secrets": [{"name": "DD_API_KEY", "valueFrom": api_key_secret_arn}],
            "mountPoints": _mounts(DATADOG_MOUNTS),
            "logConfiguration": _awslogs(spec, prefix="datadog-agent"),
        }
    )


def _hardened(container: dict[str, Any]) -> dict[str, Any]:
    # Same baseline for every container (CMP-03): no privilege, read-only root, no caps.
    return container | {
        "privileged": False,
        "readonlyRootFilesystem": True,
        "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
    }


def _awslogs(spec: GatewayTaskSpec, *, prefix: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": spec.log_group,
            "awslogs-region": spec.region,
            "awslogs-stream-prefix": prefix,
            # A slow CloudWatch must not block the request path; the buffer absorbs bursts.
            "mode": "non-blocking",
            "max-buffer-size": "4m",
        },
    }


def _pairs(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": values[k]} for k in sorted(values)]


def _mounts(mounts: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"sourceVolume": name, "containerPath": path, "readOnly": False}
        for name, path in mounts.items()
    ]
