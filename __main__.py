"""The AgathaAI platform program: load the stack config, build the layers, publish outputs.

Wiring only. Each layer lives in ``components/<layer>.py``; what the stack publishes for
tools is declared in ``components/published_outputs.py``.
"""

from __future__ import annotations

import pulumi
from components.alerting import Alerting, AlertingArgs
from components.compute import Compute, ComputeArgs
from components.data import Data, DataArgs
from components.edge import Edge, EdgeArgs, origin_ingress_cidrs
from components.monitoring import Monitoring, MonitoringArgs
from components.network import Network, NetworkArgs

from components.config import load_stack_config
from components.naming import base_name, required_tags, ssm_prefix
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
compute = Compute(
    prefix,
    ComputeArgs(
        config=config.compute,
        general=config.general,
        network=network,
        data=data,
        log_retention_days=config.data.log_retention_days,
        tags=tags("compute"),
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
