"""Gateway container definitions and the ECR lifecycle policy (pure, no Pulumi)."""

from __future__ import annotations

import json

from components.compute_containers import (
    DATADOG_AGENT_IMAGE,
    GATEWAY_MOUNTS,
    OTEL_COLLECTOR_IMAGE,
    OTLP_GRPC_ADDRESS,
    GatewayTaskSpec,
    image_reference,
    otel_collector_config,
    task_containers,
    task_volume_names,
)
from components.compute_env import secret_looking_names
from components.compute_registry import lifecycle_policy

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/agatha-dev-gateway"
DIGEST = "sha256:" + "a" * 64
DD_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:datadog-AbCdEf"
WRITE_URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"


def spec(**overrides: object) -> GatewayTaskSpec:
    values: dict = {
        "image": f"{REPO}:0.1.0",
        "port": 8000,
        "environment": {"AGATHA_ENV": "dev", "QUEUE_URL": "https://sqs/x"},
        "log_group": "/ecs/agatha-dev/gateway",
        "region": "us-east-1",
    }
    return GatewayTaskSpec(**(values | overrides))


def by_name(containers: list[dict]) -> dict[str, dict]:
    return {c["name"]: c for c in containers}


def test_image_reference_uses_at_for_digests_and_colon_for_tags() -> None:
    assert image_reference(REPO, "1.2.3") == f"{REPO}:1.2.3"
    assert image_reference(REPO, DIGEST) == f"{REPO}@{DIGEST}"


def test_gateway_container_is_hardened_and_health_checked() -> None:
    (gateway,) = task_containers(spec())
    assert gateway["user"] == "10001"
    assert gateway["privileged"] is False
    assert gateway["readonlyRootFilesystem"] is True
    assert gateway["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
    assert gateway["portMappings"][0]["containerPort"] == 8000
    command = gateway["healthCheck"]["command"]
    assert command[:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:8000/healthz" in command[3]
    assert gateway["logConfiguration"]["logDriver"] == "awslogs"
    assert gateway["logConfiguration"]["options"]["awslogs-group"] == "/ecs/agatha-dev/gateway"
    assert gateway["secrets"] == []


def test_gateway_mounts_a_writable_tmp_backed_by_a_task_volume() -> None:
    (gateway,) = task_containers(spec())
    mounts = {m["containerPath"]: m for m in gateway["mountPoints"]}
    assert mounts["/tmp"]["readOnly"] is False
    volumes = task_volume_names(prometheus=False, datadog=False)
    assert {m["sourceVolume"] for m in gateway["mountPoints"]} == set(volumes)
    assert set(GATEWAY_MOUNTS) == set(volumes)


def test_sidecars_are_added_only_when_configured_and_are_not_essential() -> None:
    containers = by_name(
        task_containers(
            spec(prometheus_remote_write_url=WRITE_URL, datadog_api_key_secret_arn=DD_SECRET)
        )
    )
    assert set(containers) == {"gateway", "otel-collector", "datadog-agent"}
    otel, datadog = containers["otel-collector"], containers["datadog-agent"]
    assert otel["image"] == OTEL_COLLECTOR_IMAGE
    assert datadog["image"] == DATADOG_AGENT_IMAGE
    for sidecar in (otel, datadog):
        assert sidecar["essential"] is False
        assert sidecar["readonlyRootFilesystem"] is True
        assert sidecar["privileged"] is False
        assert sidecar["user"] not in ("", "root", "0")
    assert datadog["secrets"] == [{"name": "DD_API_KEY", "valueFrom": DD_SECRET}]
    datadog_env = {e["name"]: e["value"] for e in datadog["environment"]}
    assert datadog_env["DD_APM_ENABLED"] == "true"
    volumes = set(task_volume_names(prometheus=True, datadog=True))
    for container in containers.values():
        assert {m["sourceVolume"] for m in container["mountPoints"]} <= volumes


def test_no_container_carries_a_secret_looking_plain_value() -> None:
    containers = task_containers(
        spec(prometheus_remote_write_url=WRITE_URL, datadog_api_key_secret_arn=DD_SECRET)
    )
    for container in containers:
        assert secret_looking_names([e["name"] for e in container["environment"]]) == []


def test_otel_config_scrapes_the_gateway_and_remote_writes_with_sigv4() -> None:
    config = json.loads(
        otel_collector_config(remote_write_url=WRITE_URL, region="eu-west-1", port=8000)
    )
    scrape = config["receivers"]["prometheus"]["config"]["scrape_configs"][0]
    assert scrape["static_configs"] == [{"targets": ["127.0.0.1:8000"]}]
    assert scrape["metrics_path"] == "/metrics"
    exporter = config["exporters"]["prometheusremotewrite"]
    assert exporter == {"endpoint": WRITE_URL, "auth": {"authenticator": "sigv4auth"}}
    assert config["extensions"]["sigv4auth"] == {"region": "eu-west-1", "service": "aps"}
    assert "${" not in json.dumps(config)


def test_ecr_lifecycle_expires_untagged_first_and_keeps_recent_releases() -> None:
    rules = lifecycle_policy(keep_releases=30, untagged_days=3)["rules"]
    assert [r["rulePriority"] for r in rules] == [1, 2]
    assert rules[0]["selection"]["tagStatus"] == "untagged"
    assert rules[0]["selection"]["countNumber"] == 3
    assert rules[-1]["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 30,
    }


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["environment"]}


def test_gateway_traces_go_to_datadog_first_then_the_collector_then_nowhere() -> None:
    both = by_name(
        task_containers(
            spec(prometheus_remote_write_url=WRITE_URL, datadog_api_key_secret_arn=DD_SECRET)
        )
    )
    collector_only = by_name(task_containers(spec(prometheus_remote_write_url=WRITE_URL)))
    (bare,) = task_containers(spec())
    for found in (both, collector_only):
        gateway = env_of(found["gateway"])
        assert gateway["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{OTLP_GRPC_ADDRESS}"
        assert gateway["OTEL_SERVICE_NAME"] == "agatha-gateway"
    agent = env_of(both["datadog-agent"])
    assert agent["DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT"] == OTLP_GRPC_ADDRESS
    assert (
        "otlp" not in json.loads(env_of(both["otel-collector"])["AOT_CONFIG_CONTENT"])["receivers"]
    )
    collector = json.loads(env_of(collector_only["otel-collector"])["AOT_CONFIG_CONTENT"])
    assert collector["receivers"]["otlp"] == {
        "protocols": {"grpc": {"endpoint": OTLP_GRPC_ADDRESS}}
    }
    assert not [k for k in env_of(bare) if k.startswith("OTEL_")]


def test_otel_config_exports_traces_to_xray_when_asked() -> None:
    config = json.loads(
        otel_collector_config(
            remote_write_url=WRITE_URL, region="eu-west-1", port=8000, traces=True
        )
    )
    assert config["exporters"]["awsxray"] == {"region": "eu-west-1"}
    assert config["service"]["pipelines"]["traces"] == {
        "receivers": ["otlp"],
        "processors": ["batch"],
        "exporters": ["awsxray"],
    }
    assert config["service"]["pipelines"]["metrics"]["receivers"] == ["prometheus"]
    assert "${" not in json.dumps(config)
