"""The Compute component under the mock runtime, with stand-ins for Network and Data."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi
import pytest

from agatha.plan.graph import PlannedResource, ResourceGraph
from agatha.plan.mock_runtime import ProgramError, evaluate_program
from components import compute_iam as iam
from components.compute import Compute, ComputeArgs
from components.compute_env import APP_ENV_PROVIDED, LAMBDA_RESERVED_ENV, secret_looking_names
from components.compute_worker import DATADOG_EXTENSION_VERSION
from components.config.compute import ComputeConfig
from components.config.general import GeneralConfig
from components.published_outputs import PUBLISHED_OUTPUTS

REPO_ROOT = Path(__file__).resolve().parents[2]
NAME = "agatha-test"
TAGS = {"environment": "dev", "layer": "compute", "managed-by": "pulumi"}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/test"
ACCOUNT = "123456789012"
PRIVATE = ["subnet-private-a", "subnet-private-b", "subnet-private-c"]
PUBLIC = ["subnet-public-a", "subnet-public-b", "subnet-public-c"]
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:agatha-test-jobs"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/platform"
WORKSPACE = f"arn:aws:aps:us-east-1:{ACCOUNT}:workspace/ws-1"
DD_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:datadog-AbCdEf"
WRITE_URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"

LAMBDA = "aws:lambda/function:Function"
SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
LISTENER = "aws:lb/listener:Listener"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def _secret(name: str) -> str:
    return f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}-AbCdEf"


def fake_network() -> SimpleNamespace:
    return SimpleNamespace(
        vpc_id="vpc-0test",
        public_subnet_ids=PUBLIC,
        private_subnet_ids=PRIVATE,
        alb_security_group_id="sg-alb",
        gateway_security_group_id="sg-gateway",
        worker_security_group_id="sg-worker",
    )


def fake_data() -> SimpleNamespace:
    return SimpleNamespace(
        platform_key_arn=KEY_ARN,
        logs_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/logs",
        db_endpoint="db.cluster-abc.us-east-1.rds.amazonaws.com",
        db_port=5432,
        db_name="agatha",
        db_master_secret_arn=_secret("rds"),
        cache_primary_endpoint="master.cache.abc.use1.cache.amazonaws.com",
        cache_port=6379,
        cache_auth_secret_arn=_secret("redis-auth"),
        archive_bucket_name="agatha-test-archive",
        archive_bucket_arn="arn:aws:s3:::agatha-test-archive",
        logs_bucket_name="agatha-test-logs",
        queue_url=f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/agatha-test-jobs",
        queue_arn=QUEUE_ARN,
        dlq_url=f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/agatha-test-dlq",
        events_topic_arn=f"arn:aws:sns:us-east-1:{ACCOUNT}:agatha-test-events",
        jwt_signing_secret_arn=_secret("jwt"),
        provider_secret_arns={p: _secret(p) for p in ("openai", "anthropic", "together", "google")},
    )


def compute_config(**raw: Any) -> ComputeConfig:
    return ComputeConfig.model_validate({"certificateArn": CERT, **raw})


def run(config: ComputeConfig | None = None, **extra: Any) -> ResourceGraph:
    def program() -> None:
        compute = Compute(
            NAME,
            ComputeArgs(
                config=config or compute_config(),
                general=GeneralConfig.model_validate({"environment": "dev"}),
                network=fake_network(),  # type: ignore[arg-type]
                data=fake_data(),  # type: ignore[arg-type]
                log_retention_days=30,
                tags=TAGS,
                **extra,
            ),
        )
        for key, value in compute.published().items():
            pulumi.export(key, value)
        pulumi.export("attributes", _attributes(compute))

    return evaluate_program(program)


def _attributes(compute: Compute) -> dict[str, Any]:
    names = [
        "cluster_name", "cluster_arn", "gateway_service_name", "gateway_repository_url",
        "alb_arn", "alb_arn_suffix", "alb_dns_name", "alb_zone_id", "target_group_arn_suffix",
        "worker_function_name", "worker_function_arn", "gateway_log_group_name",
        "worker_log_group_name", "gateway_task_role_arn", "worker_role_arn",
    ]  # fmt: skip
    return {name: getattr(compute, name) for name in names}


@pytest.fixture(scope="module")
def graph() -> ResourceGraph:
    return run()


@pytest.fixture(scope="module")
def sidecar_graph() -> ResourceGraph:
    return run(
        compute_config(workerReservedConcurrency=40, workerMaxConcurrency=20),
        prometheus_remote_write_url=WRITE_URL,
        prometheus_workspace_arn=WORKSPACE,
        datadog_enabled=True,
        datadog_api_key_secret_arn=DD_SECRET,
    )


def one(graph: ResourceGraph, type_token: str) -> PlannedResource:
    (resource,) = graph.of_type(type_token)
    return resource


def containers(graph: ResourceGraph) -> dict[str, dict[str, Any]]:
    definitions = json.loads(one(graph, TASK).inputs["containerDefinitions"])
    return {c["name"]: c for c in definitions}


def role_policy(graph: ResourceGraph, suffix: str) -> dict[str, Any]:
    return json.loads(graph.named(f"{NAME}-{suffix}").inputs["policy"])


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["environment"]}


def test_every_child_descends_from_the_compute_component(graph: ResourceGraph) -> None:
    component = one(graph, "agatha:compute:Compute")
    inside = {component.urn}
    for resource in graph:
        if resource.urn != component.urn:
            assert resource.parent in inside, resource.name
            assert resource.name.startswith(f"{NAME}-"), resource.name
            inside.add(resource.urn)
    assert len(inside) > 20


def test_taggable_children_carry_the_layer_tags(graph: ResourceGraph) -> None:
    tagged = [r for r in graph if r.custom and "tags" in r.inputs]
    assert {r.type for r in tagged} >= {SERVICE, LAMBDA, "aws:lb/loadBalancer:LoadBalancer"}
    for resource in tagged:
        assert resource.inputs["tags"] == TAGS, resource.name


def test_repository_is_immutable_scanned_encrypted_and_pruned(graph: ResourceGraph) -> None:
    repo = one(graph, "aws:ecr/repository:Repository")
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]
    lifecycle = one(graph, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert lifecycle.parent == repo.urn
    assert json.loads(lifecycle.inputs["policy"])["rules"]


def test_cluster_has_container_insights(graph: ResourceGraph) -> None:
    cluster = one(graph, "aws:ecs/cluster:Cluster")
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_alb_is_public_hardened_and_logged(graph: ResourceGraph) -> None:
    alb = one(graph, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["internal"] is False
    assert alb.inputs["subnets"] == PUBLIC
    assert alb.inputs["securityGroups"] == ["sg-alb"]
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["desyncMitigationMode"] in ("defensive", "strictest")
    assert alb.inputs["accessLogs"] == {
        "bucket": "agatha-test-logs",
        "prefix": "alb",
        "enabled": True,
    }
    assert alb.inputs["enableDeletionProtection"] is False


def test_prod_setting_turns_on_alb_deletion_protection() -> None:
    graph = run(compute_config(albDeletionProtection=True))
    alb = one(graph, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["enableDeletionProtection"] is True


def test_https_listener_uses_tls12_plus_policy_and_the_configured_certificate(
    graph: ResourceGraph,
) -> None:
    https = graph.named(f"{NAME}-alb-https")
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["port"] == 443
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https.inputs["certificateArn"] == CERT
    (action,) = https.inputs["defaultActions"]
    assert action["type"] == "forward"


def test_http_listener_only_redirects_to_https(graph: ResourceGraph) -> None:
    http = graph.named(f"{NAME}-alb-http")
    assert http.inputs["protocol"] == "HTTP"
    assert http.inputs["defaultActions"] == [
        {
            "type": "redirect",
            "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"},
        }
    ]
    assert len(graph.of_type(LISTENER)) == 2


def test_target_group_targets_task_ips_on_the_gateway_port(graph: ResourceGraph) -> None:
    group = one(graph, "aws:lb/targetGroup:TargetGroup")
    assert group.inputs["targetType"] == "ip"
    assert group.inputs["port"] == 8000
    assert group.inputs["vpcId"] == "vpc-0test"
    assert group.inputs["healthCheck"]["path"] == "/healthz"


def test_service_runs_in_private_subnets_without_public_ip(graph: ResourceGraph) -> None:
    service = one(graph, SERVICE)
    network = service.inputs["networkConfiguration"]
    assert network == {
        "subnets": PRIVATE,
        "securityGroups": ["sg-gateway"],
        "assignPublicIp": False,
    }
    assert service.inputs["launchType"] == "FARGATE"
    assert service.inputs["desiredCount"] == 1
    assert service.inputs["loadBalancers"][0]["containerName"] == "gateway"
    assert service.inputs["loadBalancers"][0]["containerPort"] == 8000


def test_service_rolls_back_failed_deployments_and_allows_ecs_exec(graph: ResourceGraph) -> None:
    service = one(graph, SERVICE)
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["enableExecuteCommand"] is True
    listener_urns = {r.urn for r in graph.of_type(LISTENER)}
    assert listener_urns <= set(service.depends_on)


def test_task_definition_is_arm64_fargate_with_separate_roles(graph: ResourceGraph) -> None:
    task = one(graph, TASK)
    assert task.inputs["runtimePlatform"] == {
        "cpuArchitecture": "ARM64",
        "operatingSystemFamily": "LINUX",
    }
    assert task.inputs["networkMode"] == "awsvpc"
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"]
    assert (task.inputs["cpu"], task.inputs["memory"]) == ("512", "1024")
    assert task.inputs["executionRoleArn"] != task.inputs["taskRoleArn"]
    assert "gateway-execution-role" in task.inputs["executionRoleArn"]


def test_gateway_container_is_locked_down_and_uses_the_configured_tag(graph: ResourceGraph) -> None:
    gateway = containers(graph)["gateway"]
    assert gateway["image"] == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{NAME}-gateway:0.1.0"
    assert gateway["privileged"] is False
    assert gateway["readonlyRootFilesystem"] is True
    assert gateway["user"] == "10001"
    volumes = {v["name"] for v in one(graph, TASK).inputs["volumes"]}
    tmp = [m for m in gateway["mountPoints"] if m["containerPath"] == "/tmp"]
    assert tmp and tmp[0]["sourceVolume"] in volumes
    log_options = gateway["logConfiguration"]["options"]
    assert log_options["awslogs-group"] == f"/ecs/{NAME}/gateway"
    assert log_options["awslogs-region"] == "us-east-1"


def test_digest_tags_are_deployed_by_digest() -> None:
    digest = "sha256:" + "b" * 64
    graph = run(compute_config(gatewayImageTag=digest))
    assert containers(graph)["gateway"]["image"].endswith(f"-gateway@{digest}")


def test_app_environment_is_complete_and_holds_no_secret_values(graph: ResourceGraph) -> None:
    gateway_env = env_of(containers(graph)["gateway"])
    assert set(gateway_env) >= APP_ENV_PROVIDED
    assert gateway_env["AWS_REGION"] == "us-east-1"
    assert gateway_env["DATABASE_PORT"] == "5432"
    assert secret_looking_names(gateway_env) == []
    worker_env = one(graph, LAMBDA).inputs["environment"]["variables"]
    tuning = {"DATABASE_POOL_SIZE", "DATABASE_MAX_OVERFLOW", "WORKER_INTERRUPTED_CALLS"}
    tuning |= {"ARCHIVE_SIGNED_PUT", "GC_GEN0_THRESHOLD"}
    assert set(worker_env) == (APP_ENV_PROVIDED - LAMBDA_RESERVED_ENV) | tuning
    assert secret_looking_names(worker_env) == []
    secret_values = {_secret(p) for p in ("rds", "jwt")}
    assert secret_values <= set(gateway_env.values())


def test_autoscaling_tracks_cpu_and_requests_per_target(graph: ResourceGraph) -> None:
    target = one(graph, "aws:appautoscaling/target:Target")
    assert target.inputs["resourceId"] == f"service/{NAME}/{NAME}-gateway"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (1, 4)
    policies = {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]: p.inputs["targetTrackingScalingPolicyConfiguration"]
        for p in graph.of_type("aws:appautoscaling/policy:Policy")
    }
    assert set(policies) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    label = policies["ALBRequestCountPerTarget"]["predefinedMetricSpecification"]["resourceLabel"]
    assert label.startswith(f"app/{NAME}-alb/") and "/targetgroup/" in label
    assert policies["ECSServiceAverageCPUUtilization"]["targetValue"] == 60


def test_worker_function_is_arm64_traced_and_in_the_vpc(graph: ResourceGraph) -> None:
    function = one(graph, LAMBDA)
    inputs = function.inputs
    assert inputs["handler"] == "app.worker.lambda_handler.handler"
    assert inputs["runtime"] in ("python3.11", "python3.12")
    assert inputs["architectures"] == ["arm64"]
    assert (inputs["memorySize"], inputs["timeout"]) == (512, 120)
    assert inputs["tracingConfig"] == {"mode": "Active"}
    assert inputs["vpcConfig"] == {"subnetIds": PRIVATE, "securityGroupIds": ["sg-worker"]}
    assert "reservedConcurrentExecutions" not in inputs
    assert inputs["loggingConfig"]["logGroup"] == f"/aws/lambda/{NAME}-worker"


def test_worker_maintenance_schedule_invokes_the_worker_with_the_handlers_event(
    graph: ResourceGraph,
) -> None:
    from app.worker.lambda_handler import MAINTENANCE_EVENT

    function = one(graph, LAMBDA)
    rule = one(graph, "aws:cloudwatch/eventRule:EventRule")
    target = one(graph, "aws:cloudwatch/eventTarget:EventTarget")
    permission = one(graph, "aws:lambda/permission:Permission")
    assert rule.inputs["scheduleExpression"] == "rate(5 minutes)"
    assert target.inputs["arn"] == function.outputs["arn"]
    assert target.inputs["rule"] == rule.outputs["name"]
    assert json.loads(target.inputs["input"]) == MAINTENANCE_EVENT
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"] == rule.outputs["arn"]
    assert permission.inputs["function"] == function.outputs["name"]
    statements = {
        s["Sid"]: s
        for p in graph.of_type(ROLE_POLICY)
        if "worker" in p.name
        for s in json.loads(p.inputs["policy"])["Statement"]
    }
    assert statements["RequeueLostJobs"] == {
        "Sid": "RequeueLostJobs",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": [QUEUE_ARN],
    }


def test_worker_reserved_concurrency_is_set_when_configured(sidecar_graph: ResourceGraph) -> None:
    assert one(sidecar_graph, LAMBDA).inputs["reservedConcurrentExecutions"] == 40


def test_event_source_reports_partial_failures_with_bounded_concurrency(
    graph: ResourceGraph,
) -> None:
    mapping = one(graph, "aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["eventSourceArn"] == QUEUE_ARN
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["scalingConfig"] == {"maximumConcurrency": 10}
    assert mapping.inputs["batchSize"] == 10
    assert mapping.inputs["maximumBatchingWindowInSeconds"] == 1
    assert mapping.parent == one(graph, LAMBDA).urn


def test_log_groups_have_retention_and_kms(graph: ResourceGraph) -> None:
    groups = graph.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert {g.inputs["name"] for g in groups} == {
        f"/ecs/{NAME}/gateway",
        f"/aws/lambda/{NAME}-worker",
    }
    for group in groups:
        assert group.inputs["retentionInDays"] == 30
        assert group.inputs["kmsKeyId"].endswith(":key/logs")


def test_every_policy_document_is_json_without_wildcards(sidecar_graph: ResourceGraph) -> None:
    documents = [json.loads(p.inputs["policy"]) for p in sidecar_graph.of_type(ROLE_POLICY)]
    documents += [
        json.loads(r.inputs["assumeRolePolicy"]) for r in sidecar_graph.of_type("aws:iam/role:Role")
    ]
    assert len(documents) == 6
    for document in documents:
        assert iam.wildcard_problems(document) == []


def test_roles_trust_only_their_service(graph: ResourceGraph) -> None:
    principals = {
        r.name: json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]
        for r in graph.of_type("aws:iam/role:Role")
    }
    for role in ("gateway-execution-role", "gateway-task-role"):
        statement = principals[f"{NAME}-{role}"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    assert principals[f"{NAME}-worker-role"]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_gateway_task_role_reads_only_its_secrets(graph: ResourceGraph) -> None:
    statements = {s["Sid"]: s for s in role_policy(graph, "gateway-task-policy")["Statement"]}
    assert statements["EnqueueJobs"]["Resource"] == [QUEUE_ARN]
    assert set(statements["ReadSecrets"]["Resource"]) == {
        _secret("rds"),
        _secret("redis-auth"),
        _secret("jwt"),
    }
    assert "RemoteWriteMetrics" not in statements


def test_worker_role_reads_provider_secrets_and_attaches_vpc_access(graph: ResourceGraph) -> None:
    statements = {s["Sid"]: s for s in role_policy(graph, "worker-policy")["Statement"]}
    assert _secret("openai") in statements["ReadSecrets"]["Resource"]
    assert _secret("jwt") not in statements["ReadSecrets"]["Resource"]
    attachment = one(graph, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == iam.LAMBDA_VPC_ACCESS_POLICY_ARN


def test_sidecars_get_their_permissions_and_secret_references(sidecar_graph: ResourceGraph) -> None:
    found = containers(sidecar_graph)
    assert set(found) == {"gateway", "otel-collector", "datadog-agent"}
    assert found["datadog-agent"]["secrets"] == [{"name": "DD_API_KEY", "valueFrom": DD_SECRET}]
    otel_config = json.loads(env_of(found["otel-collector"])["AOT_CONFIG_CONTENT"])
    assert otel_config["exporters"]["prometheusremotewrite"]["endpoint"] == WRITE_URL
    task = {s["Sid"]: s for s in role_policy(sidecar_graph, "gateway-task-policy")["Statement"]}
    assert task["RemoteWriteMetrics"]["Resource"] == [WORKSPACE]
    execution = {
        s["Sid"]: s for s in role_policy(sidecar_graph, "gateway-execution-policy")["Statement"]
    }
    assert execution["ContainerSecrets"]["Resource"] == [DD_SECRET]
    volumes = {v["name"] for v in one(sidecar_graph, TASK).inputs["volumes"]}
    for container in found.values():
        assert {m["sourceVolume"] for m in container["mountPoints"]} <= volumes


def test_published_keys_and_attributes_match_the_contract(graph: ResourceGraph) -> None:
    expected = {o.key for o in PUBLISHED_OUTPUTS if o.layer == "compute"}
    assert set(graph.exports) - {"attributes"} == expected
    assert graph.exports["ecs-cluster-name"] == NAME
    assert graph.exports["worker-function-name"] == f"{NAME}-worker"
    assert graph.exports["alb-dns-name"].endswith(".elb.amazonaws.com")
    attributes = graph.exports["attributes"]
    assert all(isinstance(v, str) and v for v in attributes.values()), attributes
    assert attributes["gateway_task_role_arn"] != attributes["worker_role_arn"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"datadog_enabled": True}, "datadog_api_key_secret_arn"),
        ({"prometheus_remote_write_url": WRITE_URL}, "prometheus_workspace_arn"),
    ],
)
def test_incomplete_sidecar_arguments_fail_with_a_fix(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ProgramError, match=message):
        run(**extra)


def test_worker_code_archives_the_app_folder_by_default(graph: ResourceGraph) -> None:
    code = one(graph, LAMBDA).inputs["code"]
    assert isinstance(code, pulumi.AssetArchive)
    (app,) = code.assets.values()
    assert list(code.assets) == ["app"]
    assert isinstance(app, pulumi.FileArchive)
    assert app.path == str(REPO_ROOT / "app")


def test_worker_bundle_path_replaces_the_app_archive() -> None:
    graph = run(compute_config(workerBundlePath="dist/worker.zip"))
    code = one(graph, LAMBDA).inputs["code"]
    assert isinstance(code, pulumi.FileArchive)
    assert code.path == str(REPO_ROOT / "dist" / "worker.zip")


def test_datadog_puts_the_extension_layer_and_its_settings_on_the_worker(
    sidecar_graph: ResourceGraph,
) -> None:
    inputs = one(sidecar_graph, LAMBDA).inputs
    assert inputs["layers"] == [
        f"arn:aws:lambda:us-east-1:464622532012:layer:Datadog-Extension-ARM:"
        f"{DATADOG_EXTENSION_VERSION}"
    ]
    env = inputs["environment"]["variables"]
    assert env["DD_API_KEY_SECRET_ARN"] == DD_SECRET
    assert (env["DD_SERVICE"], env["DD_ENV"], env["DD_TRACE_ENABLED"]) == (
        "agatha-worker",
        "dev",
        "true",
    )
    assert env["DD_SITE"] == "datadoghq.com"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://localhost:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT"] == "localhost:4318"
    assert secret_looking_names(env) == []
    statements = {s["Sid"]: s for s in role_policy(sidecar_graph, "worker-policy")["Statement"]}
    assert DD_SECRET in statements["ReadSecrets"]["Resource"]


def test_without_datadog_the_worker_has_no_layer_and_no_tracing_settings(
    graph: ResourceGraph,
) -> None:
    inputs = one(graph, LAMBDA).inputs
    assert not inputs.get("layers")
    env = inputs["environment"]["variables"]
    assert not [k for k in env if k.startswith(("DD_", "OTEL_"))]
    gateway = env_of(containers(graph)["gateway"])
    assert not [k for k in gateway if k.startswith(("DD_", "OTEL_"))]
    statements = {s["Sid"]: s for s in role_policy(graph, "worker-policy")["Statement"]}
    assert DD_SECRET not in statements["ReadSecrets"]["Resource"]


def test_datadog_receives_the_gateway_traces_over_otlp(sidecar_graph: ResourceGraph) -> None:
    found = containers(sidecar_graph)
    assert env_of(found["gateway"])["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4317"
    agent = env_of(found["datadog-agent"])
    assert agent["DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT"] == "127.0.0.1:4317"
    # The agent holds the OTLP port: the collector keeps to metrics.
    otel_config = json.loads(env_of(found["otel-collector"])["AOT_CONFIG_CONTENT"])
    assert "otlp" not in otel_config["receivers"]
    assert "traces" not in otel_config["service"]["pipelines"]


def test_prometheus_alone_sends_the_gateway_traces_to_xray_through_the_collector() -> None:
    graph = run(prometheus_remote_write_url=WRITE_URL, prometheus_workspace_arn=WORKSPACE)
    found = containers(graph)
    assert env_of(found["gateway"])["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4317"
    otel_config = json.loads(env_of(found["otel-collector"])["AOT_CONFIG_CONTENT"])
    assert otel_config["service"]["pipelines"]["traces"]["exporters"] == ["awsxray"]
    task = {s["Sid"]: s for s in role_policy(graph, "gateway-task-policy")["Statement"]}
    assert set(task["Tracing"]["Action"]) == {"xray:PutTelemetryRecords", "xray:PutTraceSegments"}
    assert not one(graph, LAMBDA).inputs.get("layers")
