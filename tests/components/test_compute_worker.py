"""The worker's pure parts: the Datadog layer, its environment and the secrets it may read."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from components.compute_worker import (
    DATADOG_EXTENSION_VERSION,
    WorkerInputs,
    datadog_layer_arn,
    worker_environment,
    worker_secret_arns,
)
from components.config.compute import ComputeConfig

DD_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-AbCdEf"
APP_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds-AbCdEf"


def inputs(environment: dict[str, Any], **extra: Any) -> WorkerInputs:
    config = ComputeConfig.model_validate({"certificateArn": "arn:aws:acm:eu-west-1:1:cert/x"})
    return WorkerInputs(
        config=config,
        environment=environment,
        network=None,
        log_retention_days=30,
        logs_key_arn="k",
        kms_key_arn="k",
        queue_arn="q",
        topic_arn="t",
        archive_bucket_arn="b",
        secret_arns=[APP_SECRET],
        **extra,
    )


def test_layer_is_the_pinned_arm64_extension_of_the_region() -> None:
    assert datadog_layer_arn("eu-west-1") == (
        "arn:aws:lambda:eu-west-1:464622532012:layer:Datadog-Extension-ARM:"
        f"{DATADOG_EXTENSION_VERSION}"
    )


def test_datadog_settings_join_the_app_environment_only_when_on() -> None:
    app_env = {"AGATHA_ENV": "prod", "QUEUE_URL": "https://sqs/x"}
    pool = {
        "DATABASE_POOL_SIZE": "10",
        "DATABASE_MAX_OVERFLOW": "0",
        "WORKER_INTERRUPTED_CALLS": "fail",
        "ARCHIVE_SIGNED_PUT": "true",
        "GC_GEN0_THRESHOLD": "20000",
    }
    assert worker_environment(inputs(app_env)) == app_env | pool
    env = worker_environment(inputs(app_env, datadog_api_key_secret_arn=DD_SECRET))
    assert env["DD_ENV"] == "prod"
    assert env["DD_API_KEY_SECRET_ARN"] == DD_SECRET
    assert env["QUEUE_URL"] == "https://sqs/x"


def test_worker_environment_refuses_plain_secret_values() -> None:
    with pytest.raises(ValueError, match="DD_API_KEY"):
        worker_environment(inputs({"DD_API_KEY": "0123456789abcdef"}))


def test_worker_reads_the_datadog_key_only_when_on() -> None:
    assert worker_secret_arns(inputs({})) == [APP_SECRET]
    on = inputs({}, datadog_api_key_secret_arn=DD_SECRET)
    assert worker_secret_arns(on) == [APP_SECRET, DD_SECRET]


def test_worker_database_pool_matches_its_batch_not_the_gateway() -> None:
    env = worker_environment(inputs({"AGATHA_ENV": "prod"}))
    assert env["DATABASE_POOL_SIZE"] == str(ComputeConfig.model_fields["worker_batch_size"].default)
    assert env["DATABASE_MAX_OVERFLOW"] == "0"


def test_interrupted_call_policy_is_stack_config_checked_before_deploy() -> None:
    config = ComputeConfig.model_validate(
        {"certificateArn": "arn:aws:acm:eu-west-1:1:cert/x", "workerInterruptedCalls": "retry"}
    )
    worker_inputs = dataclasses.replace(inputs({}), config=config)
    assert worker_environment(worker_inputs)["WORKER_INTERRUPTED_CALLS"] == "retry"
    with pytest.raises(ValueError, match="workerInterruptedCalls"):
        ComputeConfig.model_validate(
            {"certificateArn": "arn:aws:acm:eu-west-1:1:cert/x", "workerInterruptedCalls": "x"}
        )


def test_archive_path_and_gc_threshold_are_stack_config_with_the_apps_defaults() -> None:
    from app.gc_tuning import DEFAULT_GEN0_THRESHOLD
    from app.worker.config import WorkerSettings

    env = worker_environment(inputs({}))
    defaults = WorkerSettings()
    assert env["GC_GEN0_THRESHOLD"] == str(DEFAULT_GEN0_THRESHOLD)
    assert env["ARCHIVE_SIGNED_PUT"] == "true" and defaults.archive_signed_put is True
    config = ComputeConfig.model_validate(
        {
            "certificateArn": "arn:aws:acm:eu-west-1:1:cert/x",
            "workerArchiveSignedPut": False,
            "workerGcGen0Threshold": 0,
        }
    )
    env = worker_environment(dataclasses.replace(inputs({}), config=config))
    # What the function's environment says is what the worker's settings read.
    read = WorkerSettings.model_validate(
        {
            "archive_signed_put": env["ARCHIVE_SIGNED_PUT"],
            "gc_gen0_threshold": env["GC_GEN0_THRESHOLD"],
        }
    )
    assert (read.archive_signed_put, read.gc_gen0_threshold) == (False, 0)
    with pytest.raises(ValueError, match="workerGcGen0Threshold"):
        ComputeConfig.model_validate(
            {"certificateArn": "arn:aws:acm:eu-west-1:1:cert/x", "workerGcGen0Threshold": -1}
        )
