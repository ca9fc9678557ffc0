"""Pure helpers of the Aurora module."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from components.data_database import (
    CLUSTER_PARAMETERS,
    cluster_identifier,
    first_secret_arn,
    parameter_group_family,
)


def test_parameter_group_family_follows_the_major_version() -> None:
    assert parameter_group_family("16.4") == "aurora-postgresql16"
    assert parameter_group_family("15.10") == "aurora-postgresql15"


def test_parameter_group_family_rejects_a_version_without_minor() -> None:
    with pytest.raises(ValueError, match="dbEngineVersion"):
        parameter_group_family("16")


def test_cluster_parameters_force_tls() -> None:
    assert ("rds.force_ssl", "1") in CLUSTER_PARAMETERS


def test_first_secret_arn_reads_typed_and_plain_shapes() -> None:
    assert first_secret_arn([SimpleNamespace(secret_arn="arn:typed")]) == "arn:typed"
    assert first_secret_arn([{"secretArn": "arn:plain"}]) == "arn:plain"
    assert first_secret_arn([]) == ""
    assert first_secret_arn(None) == ""


def test_cluster_identifier_derives_from_the_component_name() -> None:
    assert cluster_identifier("agatha-prod") == "agatha-prod-db"
