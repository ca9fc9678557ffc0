"""Per-resource-type pricing rules: each turns one planned resource into cost lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agatha.cost.tables import CostInputs
from agatha.plan.graph import PlannedResource, ResourceGraph


@dataclass(frozen=True)
class CostLine:
    """One priced item of the estimate."""

    resource: str
    type: str
    layer: str
    item: str
    monthly_usd: float


Pricer = Callable[[PlannedResource, ResourceGraph, CostInputs], list[tuple[str, float]]]

# Types AWS does not bill for by themselves (their traffic is priced where it flows).
FREE_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable",
        "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/internetGateway:InternetGateway", "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:ec2/networkAcl:NetworkAcl", "aws:ec2/networkAclRule:NetworkAclRule",
        "aws:ec2/networkAclAssociation:NetworkAclAssociation", "aws:ec2/flowLog:FlowLog",
        "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:kms/alias:Alias",
        "aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:elasticache/parameterGroup:ParameterGroup", "aws:ssm/parameter:Parameter",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
        "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription",
        "aws:ecs/cluster:Cluster", "aws:ecs/taskDefinition:TaskDefinition",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:lb/listener:Listener", "aws:lb/targetGroup:TargetGroup",
        "aws:appautoscaling/target:Target", "aws:appautoscaling/policy:Policy",
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "aws:lambda/permission:Permission", "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:ec2clientvpn/networkAssociation:NetworkAssociation",
        "aws:ec2clientvpn/authorizationRule:AuthorizationRule",
        "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration",
    }
)  # fmt: skip


def _hours(inputs: CostInputs) -> float:
    return inputs.price("hours_per_month")


def _nat(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    nats = max(1, len(g.of_type(r.type)))
    traffic = c.use("nat_gb_per_month") / nats * c.price("nat_gateway_gb")
    return [("hours", c.price("nat_gateway_hour") * _hours(c)), ("data processed", traffic)]


def _eip(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    return [("public IPv4 address", c.price("public_ipv4_hour") * _hours(c))]


def _alb(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    lcu = c.use("alb_lcu_average") * c.price("alb_lcu_hour") * _hours(c)
    return [("hours", c.price("alb_hour") * _hours(c)), ("LCUs", lcu)]


def _fargate(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    task = _task_definition_of(r, g)
    vcpu = float(task.inputs.get("cpu", 256)) / 1024 if task else 0.25
    memory_gb = float(task.inputs.get("memory", 512)) / 1024 if task else 0.5
    count = float(r.inputs.get("desiredCount", 1))
    per_task = vcpu * c.price("fargate_arm_vcpu_hour") + memory_gb * c.price("fargate_arm_gb_hour")
    return [(f"{count:g} ARM task(s) {vcpu:g} vCPU/{memory_gb:g} GB", per_task * count * _hours(c))]


def _task_definition_of(service: PlannedResource, g: ResourceGraph) -> PlannedResource | None:
    wanted = service.inputs.get("taskDefinition")
    for task in g.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        if wanted in (task.outputs.get("arn"), task.outputs.get("family")):
            return task
    tasks = g.of_type("aws:ecs/taskDefinition:TaskDefinition")
    return tasks[0] if len(tasks) == 1 else None


def _lambda(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    requests = c.use("requests_per_month")
    gb = float(r.inputs.get("memorySize", 128)) / 1024
    seconds = requests * c.use("worker_avg_duration_seconds")
    return [
        ("requests", requests / 1e6 * c.price("lambda_request_million")),
        ("compute (ARM GB-s)", seconds * gb * c.price("lambda_arm_gb_second")),
    ]


def _aurora_instance(
    r: PlannedResource, g: ResourceGraph, c: CostInputs
) -> list[tuple[str, float]]:
    instance_class = str(r.inputs.get("instanceClass", ""))
    if instance_class == "db.serverless":
        acu = c.use("aurora_avg_acu") * c.price("aurora_serverless_v2_acu_hour") * _hours(c)
        return [("serverless v2 ACU-hours", acu)]
    table = c.prices["aurora_instance_hour"]
    if instance_class not in table:
        return []
    return [(instance_class, float(table[instance_class]) * _hours(c))]


def _aurora_cluster(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    return [
        ("storage", c.use("aurora_storage_gb") * c.price("aurora_storage_gb_month")),
        ("I/O", c.use("aurora_io_millions") * c.price("aurora_io_million")),
    ]


def _redis(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    node_type = str(r.inputs.get("nodeType", ""))
    nodes = float(r.inputs.get("numCacheClusters", 1))
    table = c.prices["elasticache_node_hour"]
    if node_type not in table:
        return []
    return [(f"{nodes:g} x {node_type}", nodes * float(table[node_type]) * _hours(c))]


def _bucket(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    buckets = max(1, len(g.of_type(r.type)))
    gb = c.use("archive_storage_gb") / buckets
    return [("storage (share of archive volume)", gb * c.price("s3_standard_gb_month"))]


def _queue(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    # Each job costs a send, a receive and a delete; DLQs see almost nothing.
    if "redrivePolicy" not in r.inputs:
        return [("requests", 0.0)]
    return [("requests", 3 * c.use("requests_per_month") / 1e6 * c.price("sqs_request_million"))]


def _flat(key: str, label: str) -> Pricer:
    def price(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
        return [(label, c.price(key))]

    return price


def _log_group(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    groups = max(1, len(g.of_type(r.type)))
    return [
        ("ingestion (share)", c.use("log_ingest_gb_per_month") / groups * c.price("logs_ingest_gb"))
    ]


def _endpoint(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    if r.inputs.get("vpcEndpointType") != "Interface":
        return [("gateway endpoint", 0.0)]
    azs = max(1, len(r.inputs.get("subnetIds") or []))
    return [(f"{azs} AZ ENIs", azs * c.price("interface_endpoint_az_hour") * _hours(c))]


def _vpn(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    associations = max(1, len(g.of_type("aws:ec2clientvpn/networkAssociation:NetworkAssociation")))
    return [
        ("subnet associations", associations * c.price("client_vpn_association_hour") * _hours(c))
    ]


def _ecr(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    repos = max(1, len(g.of_type(r.type)))
    return [("image storage", c.use("ecr_storage_gb") / repos * c.price("ecr_storage_gb_month"))]


def _amp(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    return [("samples ingested", c.use("amp_samples_millions") * c.price("amp_samples_million"))]


def _grafana(r: PlannedResource, g: ResourceGraph, c: CostInputs) -> list[tuple[str, float]]:
    return [("editor licences", c.use("grafana_editors") * c.price("grafana_editor_month"))]


PRICERS: dict[str, Pricer] = {
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/eip:Eip": _eip,
    "aws:lb/loadBalancer:LoadBalancer": _alb,
    "aws:ecs/service:Service": _fargate,
    "aws:lambda/function:Function": _lambda,
    "aws:rds/clusterInstance:ClusterInstance": _aurora_instance,
    "aws:rds/cluster:Cluster": _aurora_cluster,
    "aws:elasticache/replicationGroup:ReplicationGroup": _redis,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:sqs/queue:Queue": _queue,
    "aws:kms/key:Key": _flat("kms_key_month", "customer managed key"),
    "aws:secretsmanager/secret:Secret": _flat("secret_month", "secret"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _flat("alarm_month", "standard alarm"),
    "aws:cloudwatch/dashboard:Dashboard": _flat("dashboard_month", "dashboard"),
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:ec2clientvpn/endpoint:Endpoint": _vpn,
    "aws:ecr/repository:Repository": _ecr,
    "aws:amp/workspace:Workspace": _amp,
    "aws:grafana/workspace:Workspace": _grafana,
    "aws:sns/topic:Topic": _flat("sns_request_million", "notifications (~1M)"),
    "aws:cloudtrail/trail:Trail": lambda r, g, c: [("management events (first trail)", 0.0)],
}
