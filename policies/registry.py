"""Every rule of the pack, in catalogue order, plus the decisions the docs publish."""

from __future__ import annotations

from policies.framework import Rule
from policies.rules import (
    compute,
    compute_lambda,
    data_db,
    data_storage,
    edge,
    governance,
    network,
    network_lb,
    observability,
)

ALL_RULES: tuple[Rule, ...] = (
    edge.cloudflare_strict_tls,
    edge.cloudflare_hsts,
    edge.cloudflare_managed_waf,
    edge.cloudflare_rate_limit,
    edge.cloudflare_origin_records_proxied,
    edge.origin_only_from_cloudflare,
    network.vpc_flow_logs,
    network.default_security_group_closed,
    network.no_open_ingress,
    network.data_tier_ingress_from_app_groups,
    network.no_public_ip_outside_public_tier,
    network.database_subnets_isolated,
    network.nacl_no_open_admin_ports,
    network.nat_gateway_per_az,
    network_lb.alb_listeners_https,
    network_lb.alb_hardening,
    compute.ecs_container_insights,
    compute.ecs_service_safe_deployment,
    compute.ecs_task_least_privilege,
    compute.no_plaintext_secrets_in_environment,
    compute.ecr_repository_hardening,
    compute_lambda.lambda_function_settings,
    compute_lambda.sqs_event_source_safety,
    compute_lambda.lambda_concurrency_bounded,
    compute_lambda.lambda_not_publicly_invocable,
    data_db.database_encrypted_with_cmk,
    data_db.database_private,
    data_db.database_multi_az,
    data_db.database_backups,
    data_db.database_deletion_protection,
    data_db.database_operational_security,
    data_db.cache_encrypted_and_authenticated,
    data_db.cache_high_availability,
    data_storage.s3_bucket_secure,
    data_storage.s3_bucket_logging_and_lifecycle,
    data_storage.messaging_encrypted_and_private,
    data_storage.kms_key_rotation_and_policy,
    data_storage.secrets_kms_and_rotation,
    observability.cloudtrail_hardened,
    observability.log_group_retention_and_encryption,
    observability.alarms_notify,
    observability.alarm_coverage,
    observability.alert_subscriptions_encrypted,
    governance.iam_least_privilege,
    governance.iam_trust_scoped,
    governance.required_tags,
    governance.no_iam_users,
)

# Advisory findings the dev stack is allowed to have, with the reason (published in the docs).
ACCEPTED_DEV_ADVISORIES: dict[str, str] = {
    "NET-10": (
        "dev ALB has no access logs or deletion protection: nothing to investigate, "
        "torn down freely"
    ),
    "CMP-02": "dev runs one gateway task to save cost; rollback still protects deployments",
    "CMP-05": "dev repository may use AES256; images hold no customer data",
    "CMP-06": "dev skips X-Ray tracing to save cost",
    "DATA-03": "dev runs a single serverless Aurora instance",
    "DATA-04": "dev keeps 7 days of backups and skips the final snapshot on teardown",
    "DATA-05": "dev databases are disposable and must be deletable by `pulumi destroy`",
    "DATA-06": "dev skips Performance Insights and log exports to save cost",
    "DATA-08": "dev runs one cache node without failover",
    "DATA-10": "dev buckets skip access logging",
    "DATA-11": "dev queues may use SSE-SQS and skip the TLS-only policy",
    "DATA-13": "dev secrets and parameters may use AWS-managed keys",
    "OBS-02": "dev keeps logs 30 days without a KMS key",
    "OBS-04": "dev has reduced alarm coverage",
    "EDGE-02": "dev zone may skip HSTS while hostnames change",
    "EDGE-03": "dev WAF may run log-only while rules are tuned",
}

# Resource types with no security-relevant settings of their own (covered by GOV-03 tags
# when taggable); listed so the coverage test names any new type nobody has looked at.
INERT_TYPES: frozenset[str] = frozenset(
    {
        "aws:ec2/eip:Eip",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/route:Route",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:lb/targetGroup:TargetGroup",
        "aws:appautoscaling/target:Target",
        "aws:appautoscaling/policy:Policy",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:kms/alias:Alias",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:amp/workspace:Workspace",
        "aws:grafana/workspace:Workspace",
        "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration",
        # The worker's maintenance schedule: what it may invoke is decided by the Lambda
        # permission (CMP rule lambda-not-publicly-invocable: scoped to the rule's ARN).
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings",
        "cloudflare:index/botManagement:BotManagement",
        "datadog:aws/integrationAccount:IntegrationAccount",
        "datadog:aws/integrationExternalId:IntegrationExternalId",
        "datadog:index/dashboardJson:DashboardJson",
        "datadog:index/serviceLevelObjective:ServiceLevelObjective",
    }
)


def rules_by_id() -> dict[str, Rule]:
    """The rules keyed by their stable id."""
    return {r.id: r for r in ALL_RULES}
