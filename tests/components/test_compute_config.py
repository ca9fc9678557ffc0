"""ComputeConfig: immutable image references and worker concurrency bounds."""

from __future__ import annotations

import pytest

from components.config.base import StackConfigError, read_section
from components.config.compute import ComputeConfig

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/x"


def read(**raw: str) -> ComputeConfig:
    section = read_section(ComputeConfig, stack="dev", get_raw={"certificateArn": CERT, **raw}.get)
    assert isinstance(section, ComputeConfig)
    return section


def test_defaults_archive_the_app_folder_and_leave_concurrency_unreserved() -> None:
    config = read()
    assert config.worker_bundle_path == ""
    assert config.worker_reserved_concurrency == -1
    assert config.log_level == "INFO"


def test_digest_and_release_tags_are_accepted() -> None:
    digest = "sha256:" + "0" * 64
    assert read(gatewayImageTag=digest).gateway_image_tag == digest
    assert read(gatewayImageTag="1.4.2-rc.1").gateway_image_tag == "1.4.2-rc.1"


@pytest.mark.parametrize("tag", ["latest", "sha256:abc", "bad tag", ""])
def test_mutable_or_malformed_image_references_are_rejected(tag: str) -> None:
    with pytest.raises(StackConfigError, match="gatewayImageTag"):
        read(gatewayImageTag=tag)


def test_reserved_concurrency_below_event_source_concurrency_is_rejected() -> None:
    with pytest.raises(StackConfigError, match=r"workerReservedConcurrency.*workerMaxConcurrency"):
        read(workerReservedConcurrency="5", workerMaxConcurrency="10")
    assert (
        read(workerReservedConcurrency="10", workerMaxConcurrency="10").worker_reserved_concurrency
        == 10
    )


def test_large_batches_need_a_batching_window() -> None:
    with pytest.raises(StackConfigError, match="workerBatchWindowSeconds"):
        read(workerBatchSize="100", workerBatchWindowSeconds="0")


def test_unknown_log_level_is_rejected() -> None:
    with pytest.raises(StackConfigError, match="logLevel"):
        read(logLevel="CHATTY")
