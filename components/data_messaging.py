"""SQS inference queue with its dead-letter queue, and the SNS platform-events topic."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import data_policies
from components.config.data import DataConfig
from components.data_keys import AwsContext

VISIBILITY_TIMEOUT_FACTOR = 6  # AWS guidance for Lambda SQS sources: 6x the function timeout
MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200
DLQ_RETENTION_SECONDS = 1_209_600  # the SQS maximum, 14 days, to leave time for a redrive
KMS_DATA_KEY_REUSE_SECONDS = 300
LONG_POLL_SECONDS = 20


@dataclass(frozen=True)
class Messaging:
    """The job queue, its DLQ and the events topic."""

    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    topic: aws.sns.Topic


def visibility_timeout_seconds(worker_timeout_seconds: int) -> int:
    """Visibility timeout of the job queue for a worker with the given timeout."""
    timeout = VISIBILITY_TIMEOUT_FACTOR * worker_timeout_seconds
    if worker_timeout_seconds < 1 or timeout > MAX_VISIBILITY_TIMEOUT_SECONDS:
        raise ValueError(
            f"workerTimeoutSeconds {worker_timeout_seconds} gives a queue visibility timeout "
            f"of {timeout} s; SQS allows 6 x timeout only up to "
            f"{MAX_VISIBILITY_TIMEOUT_SECONDS} s, so set workerTimeoutSeconds to 1-"
            f"{MAX_VISIBILITY_TIMEOUT_SECONDS // VISIBILITY_TIMEOUT_FACTOR}"
        )
    return timeout


def create_messaging(
    name: str,
    *,
    config: DataConfig,
    context: AwsContext,
    worker_timeout_seconds: int,
    platform_key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> Messaging:
    """Create the KMS-encrypted, TLS-only queue pair and events topic."""
    child = pulumi.ResourceOptions(parent=parent)
    dlq = aws.sqs.Queue(
        f"{name}-jobs-dlq",
        name=f"{name}-jobs-dlq",
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        tags=tags | {"Name": f"{name}-jobs-dlq"},
        kms_master_key_id=platform_key_arn,
        kms_data_key_reuse_period_seconds=KMS_DATA_KEY_REUSE_SECONDS,
        opts=child,
    )
    queue = aws.sqs.Queue(
        f"{name}-jobs",
        name=f"{name}-jobs",
        visibility_timeout_seconds=visibility_timeout_seconds(worker_timeout_seconds),
        message_retention_seconds=config.queue_retention_seconds,
        receive_wait_time_seconds=LONG_POLL_SECONDS,
        redrive_policy=dlq.arn.apply(
            lambda arn: json.dumps(
                data_policies.redrive_policy(
                    dlq_arn=arn, max_receive_count=config.queue_max_receive_count
                )
            )
        ),
        tags=tags | {"Name": f"{name}-jobs"},
        kms_master_key_id=platform_key_arn,
        kms_data_key_reuse_period_seconds=KMS_DATA_KEY_REUSE_SECONDS,
        opts=child,
    )
    _create_queue_policies(name, queue=queue, dlq=dlq, context=context, parent=parent)
    topic = _create_topic(name, context=context, key_arn=platform_key_arn, tags=tags, parent=parent)
    return Messaging(queue=queue, dlq=dlq, topic=topic)


def _create_queue_policies(
    name: str,
    *,
    queue: aws.sqs.Queue,
    dlq: aws.sqs.Queue,
    context: AwsContext,
    parent: pulumi.Resource,
) -> None:
    child = pulumi.ResourceOptions(parent=parent)
    # A separate resource, because the DLQ would otherwise need the source queue's ARN
    # before the source queue (which needs the DLQ's ARN) exists.
    aws.sqs.RedriveAllowPolicy(
        f"{name}-jobs-dlq-redrive-allow",
        queue_url=dlq.url,
        redrive_allow_policy=queue.arn.apply(
            lambda arn: json.dumps(data_policies.redrive_allow_policy(source_queue_arn=arn))
        ),
        opts=child,
    )
    for resource_name, target in ((f"{name}-jobs", queue), (f"{name}-jobs-dlq", dlq)):
        aws.sqs.QueuePolicy(
            f"{resource_name}-policy",
            queue_url=target.url,
            policy=context.render(data_policies.tls_only_queue_policy, queue_arn=target.arn),
            opts=child,
        )


def _create_topic(
    name: str,
    *,
    context: AwsContext,
    key_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.sns.Topic:
    topic = aws.sns.Topic(
        f"{name}-events",
        name=f"{name}-events",
        display_name=f"{name} platform events",
        kms_master_key_id=key_arn,
        tags=tags | {"Name": f"{name}-events"},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.sns.TopicPolicy(
        f"{name}-events-policy",
        arn=topic.arn,
        policy=context.render(data_policies.events_topic_policy, topic_arn=topic.arn),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return topic
