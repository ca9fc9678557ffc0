"""The AgathaAI platform program: load the stack config, build the layers, publish outputs.

Wiring only. Each layer lives in ``components/<layer>.py``; what the stack publishes for
tools is declared in ``components/published_outputs.py``.
"""

from __future__ import annotations

import pulumi

from components.alerting import Alerting, AlertingArgs
from components.cicd import Cicd, CicdArgs
from components.compute import Compute, ComputeArgs
from components.config import load_stack_config
from components.data import Data, DataArgs
from components.edge import Edge, EdgeArgs, origin_ingress_cidrs
from components.monitoring import Monitoring, MonitoringArgs
from components.monitoring_alarms import PlatformShape
from components.monitoring_prometheus import MetricsWorkspaces, MetricsWorkspacesArgs
from components.naming import base_name, required_tags, ssm_prefix
from components.network import Network, NetworkArgs
from components.outputs import Outputs, OutputsArgs

config = load_stack_config()
prefix = base_name(service=config.general.service, stack=config.stack)


def tags(layer: str) -> dict[str, str]:
    return required_tags(config.general, stack=config.stack, layer=layer)


ingress_v4, ingress_v6 = origin_ingress_cidrs(config.edge)

network = Network(
    prefix,
    NetworkArgs(
        config=config.network,
        tags=tags("network"),
        alb_ingress_ipv4_cidrs=ingress_v4,
        alb_ingress_ipv6_cidrs=ingress_v6,
    ),
)
data = Data(
    prefix,
    DataArgs(
        config=config.data,
        network=network,
        worker_timeout_seconds=config.compute.worker_timeout_seconds,
        tags=tags("data"),
    ),
)
# Telemetry destinations exist before Compute: the gateway task points its sidecars at them.
workspaces = MetricsWorkspaces(
    prefix,
    MetricsWorkspacesArgs(
        config=config.monitoring,
        data=data,
        log_retention_days=config.data.log_retention_days,
        tags=tags("monitoring"),
    ),
)
compute = Compute(
    prefix,
    ComputeArgs(
        config=config.compute,
        general=config.general,
        network=network,
        data=data,
        log_retention_days=config.data.log_retention_days,
        tags=tags("compute"),
        prometheus_remote_write_url=workspaces.remote_write_url,
        prometheus_workspace_arn=workspaces.workspace_arn,
        datadog_enabled=config.monitoring.datadog_enabled,
        datadog_api_key_secret_arn=workspaces.datadog_api_key_secret_arn,
    ),
)
alerting = Alerting(prefix, AlertingArgs(config=config.alerting, data=data, tags=tags("alerting")))
edge = Edge(prefix, EdgeArgs(config=config.edge, compute=compute))
monitoring = Monitoring(
    prefix,
    MonitoringArgs(
        config=config.monitoring,
        general=config.general,
        network=network,
        data=data,
        compute=compute,
        alerting=alerting,
        audit_log_retention_days=config.data.audit_log_retention_days,
        shape=PlatformShape(
            gateway_min_count=config.compute.gateway_min_count,
            worker_timeout_seconds=config.compute.worker_timeout_seconds,
            db_instance_count=config.data.db_instance_count,
            cache_node_count=1 + config.data.cache_replicas,
        ),
        protect_audit_logs=config.data.protect_data,
        tags=tags("monitoring"),
    ),
)

published = Outputs(
    prefix,
    OutputsArgs(
        ssm_prefix=ssm_prefix(service=config.general.service, stack=config.stack),
        values=network.published() | data.published() | compute.published(),
        tags=tags("outputs"),
    ),
)
for key, value in published.values.items():
    pulumi.export(key, value)
if config.cicd.cicd_enabled:
    cicd = Cicd(prefix, CicdArgs(config=config.cicd, tags=tags("cicd")))
    pulumi.export("github-deploy-role-arn", cicd.deploy_role_arn)
    pulumi.export("github-preview-role-arn", cicd.preview_role_arn)
