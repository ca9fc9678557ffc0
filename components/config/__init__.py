"""The typed stack-config loader: the only reader of ``pulumi.Config()``.

Layers are declared in their own modules; ``StackConfig`` bundles them and
``load_stack_config`` reads and validates every key once, raising ``StackConfigError``
(naming the key, the stack file and the fix) on the first problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from components.config.alerting import AlertingConfig
from components.config.base import (
    NAMESPACE,
    ConfigSection,
    StackConfigError,
    project_config_schema,
    read_section,
)
from components.config.cicd import CicdConfig
from components.config.compute import ComputeConfig
from components.config.data import DataConfig
from components.config.edge import EdgeConfig
from components.config.general import GeneralConfig
from components.config.monitoring import MonitoringConfig
from components.config.network import NetworkConfig

_S = TypeVar("_S", bound=ConfigSection)

SECTIONS: tuple[type[ConfigSection], ...] = (
    GeneralConfig,
    NetworkConfig,
    DataConfig,
    ComputeConfig,
    EdgeConfig,
    MonitoringConfig,
    AlertingConfig,
    CicdConfig,
)


@dataclass(frozen=True)
class StackConfig:
    """Everything one stack's program needs, validated."""

    stack: str
    project: str
    region: str
    general: GeneralConfig
    network: NetworkConfig
    data: DataConfig
    compute: ComputeConfig
    edge: EdgeConfig
    monitoring: MonitoringConfig
    alerting: AlertingConfig
    cicd: CicdConfig


def load_stack_config() -> StackConfig:
    """Read ``agatha:*`` and ``aws:region`` from the running Pulumi stack and validate."""
    import pulumi

    stack = pulumi.get_stack()
    config = pulumi.Config(NAMESPACE)

    def read(section: type[_S]) -> _S:
        value = read_section(section, stack=stack, get_raw=config.get)
        assert isinstance(value, section)
        return value

    region = pulumi.Config("aws").get("region") or "us-east-1"
    return StackConfig(
        stack=stack,
        project=pulumi.get_project(),
        region=region,
        general=read(GeneralConfig),
        network=read(NetworkConfig),
        data=read(DataConfig),
        compute=read(ComputeConfig),
        edge=read(EdgeConfig),
        monitoring=read(MonitoringConfig),
        alerting=read(AlertingConfig),
        cicd=read(CicdConfig),
    )


def pulumi_yaml_config_block() -> dict[str, dict[str, object]]:
    """The documented ``config:`` block Pulumi.yaml must carry (tests compare them)."""
    return project_config_schema(list(SECTIONS))


__all__ = [
    "SECTIONS",
    "AlertingConfig",
    "CicdConfig",
    "ComputeConfig",
    "DataConfig",
    "EdgeConfig",
    "GeneralConfig",
    "MonitoringConfig",
    "NetworkConfig",
    "StackConfig",
    "StackConfigError",
    "load_stack_config",
    "pulumi_yaml_config_block",
]
