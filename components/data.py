"""The data layer: KMS keys, Aurora PostgreSQL, Redis, S3, SQS, SNS and Secrets Manager.

Each family of resources is built by one ``components/data_*.py`` module; this component
assembles them in dependency order and exposes what the other layers consume.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.config.data import DataConfig
from components.data_cache import REDIS_PORT, create_cache
from components.data_database import create_database
from components.data_inputs import NetworkOutputs
from components.data_keys import AwsContext, create_keys
from components.data_messaging import create_messaging
from components.data_secrets import create_secrets
from components.data_storage import create_buckets
from components.published_outputs import PUBLISHED_OUTPUTS


@dataclass
class DataArgs:
    """Inputs of the data layer."""

    config: DataConfig
    network: NetworkOutputs
    worker_timeout_seconds: int
    tags: dict[str, str] = field(default_factory=dict)


class Data(pulumi.ComponentResource):
    """Every stateful service of the platform, encrypted with our keys and private."""

    def __init__(
        self, name: str, args: DataArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agatha:data:Data", name, None, opts)
        config, tags = args.config, dict(args.tags)
        context = AwsContext.lookup(self)
        keys = create_keys(
            name, context=context, tags=tags, protect=config.protect_data, parent=self
        )
        self.platform_key_arn: pulumi.Output[str] = keys.platform.arn
        self.logs_key_arn: pulumi.Output[str] = keys.logs.arn
        self._create_database(name, args, tags)
        self._create_cache(name, args, tags)
        self._create_storage(name, config, context, tags)
        self._create_messaging(name, args, context, tags)
        self._create_secrets(name, config, tags)
        self.register_outputs(self.published())

    def _create_database(self, name: str, args: DataArgs, tags: dict[str, str]) -> None:
        database = create_database(
            name,
            config=args.config,
            network=args.network,
            platform_key_arn=self.platform_key_arn,
            logs_key_arn=self.logs_key_arn,
            tags=tags,
            parent=self,
        )
        cluster = database.cluster
        self.db_cluster_id: pulumi.Output[str] = cluster.cluster_identifier
        self.db_cluster_arn: pulumi.Output[str] = cluster.arn
        self.db_endpoint: pulumi.Output[str] = cluster.endpoint
        self.db_reader_endpoint: pulumi.Output[str] = cluster.reader_endpoint
        self.db_port: pulumi.Output[int] = cluster.port
        self.db_name: pulumi.Output[str] = cluster.database_name
        self.db_master_secret_arn: pulumi.Output[str] = database.master_secret_arn

    def _create_cache(self, name: str, args: DataArgs, tags: dict[str, str]) -> None:
        cache = create_cache(
            name,
            config=args.config,
            network=args.network,
            platform_key_arn=self.platform_key_arn,
            logs_key_arn=self.logs_key_arn,
            tags=tags,
            parent=self,
        )
        group = cache.replication_group
        self.cache_replication_group_id: pulumi.Output[str] = group.id
        self.cache_primary_endpoint: pulumi.Output[str] = group.primary_endpoint_address
        self.cache_port: pulumi.Output[int] = group.port.apply(
            lambda port: int(port) if port is not None else REDIS_PORT
        )
        self.cache_auth_secret_arn: pulumi.Output[str] = cache.auth_secret.arn

    def _create_storage(
        self, name: str, config: DataConfig, context: AwsContext, tags: dict[str, str]
    ) -> None:
        buckets = create_buckets(
            name,
            config=config,
            context=context,
            platform_key_arn=self.platform_key_arn,
            tags=tags,
            parent=self,
        )
        self.archive_bucket_name: pulumi.Output[str] = buckets.archive.bucket
        self.archive_bucket_arn: pulumi.Output[str] = buckets.archive.arn
        self.logs_bucket_name: pulumi.Output[str] = buckets.logs.bucket
        self.logs_bucket_arn: pulumi.Output[str] = buckets.logs.arn

    def _create_messaging(
        self, name: str, args: DataArgs, context: AwsContext, tags: dict[str, str]
    ) -> None:
        messaging = create_messaging(
            name,
            config=args.config,
            context=context,
            worker_timeout_seconds=args.worker_timeout_seconds,
            platform_key_arn=self.platform_key_arn,
            tags=tags,
            parent=self,
        )
        self.queue_url: pulumi.Output[str] = messaging.queue.url
        self.queue_arn: pulumi.Output[str] = messaging.queue.arn
        self.queue_name: pulumi.Output[str] = messaging.queue.name
        self.dlq_url: pulumi.Output[str] = messaging.dlq.url
        self.dlq_arn: pulumi.Output[str] = messaging.dlq.arn
        self.dlq_name: pulumi.Output[str] = messaging.dlq.name
        self.events_topic_arn: pulumi.Output[str] = messaging.topic.arn

    def _create_secrets(self, name: str, config: DataConfig, tags: dict[str, str]) -> None:
        secrets = create_secrets(
            name, config=config, platform_key_arn=self.platform_key_arn, tags=tags, parent=self
        )
        self.jwt_signing_secret_arn: pulumi.Output[str] = secrets.jwt_signing.arn
        self.provider_secret_arns: dict[str, pulumi.Output[str]] = {
            key: secret.arn for key, secret in secrets.providers.items()
        }
        self.service_secret_arns: dict[str, pulumi.Output[str]] = {
            key: secret.arn for key, secret in secrets.services.items()
        }

    def published(self) -> dict[str, pulumi.Input[str]]:
        """Every key of ``components/published_outputs.py`` whose layer is ``data``."""
        values: dict[str, pulumi.Input[str]] = {
            "queue-url": self.queue_url,
            "dlq-url": self.dlq_url,
            "archive-bucket": self.archive_bucket_name,
            "db-cluster-id": self.db_cluster_id,
            "db-endpoint": self.db_endpoint,
            "db-master-secret-arn": self.db_master_secret_arn,
            "cache-replication-group-id": self.cache_replication_group_id,
            "cache-auth-secret-arn": self.cache_auth_secret_arn,
            "jwt-signing-secret-arn": self.jwt_signing_secret_arn,
            "events-topic-arn": self.events_topic_arn,
        }
        for key, arn in (self.provider_secret_arns | self.service_secret_arns).items():
            values[f"secret-arn-{key}"] = arn
        expected = {o.key for o in PUBLISHED_OUTPUTS if o.layer == "data"}
        if set(values) != expected:
            # Caught by the component tests long before an operator's tool misses a key.
            raise ValueError(
                "Data.published() drifted from components/published_outputs.py: "
                f"missing {sorted(expected - set(values))}, "
                f"undeclared {sorted(set(values) - expected)}"
            )
        return values
