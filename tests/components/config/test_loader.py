"""The stack-config loader: one clear error per bad key, typed sections otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agatha.plan.mock_runtime import evaluate_program
from agatha.plan.stack_files import load_stack_settings
from agatha.project_file import render_project_file
from components.config import SECTIONS, StackConfig, StackConfigError, load_stack_config
from components.config.base import read_section
from components.config.network import NetworkConfig

REPO_ROOT = Path(__file__).resolve().parents[3]


def _load(config: dict[str, object]) -> StackConfig:
    loaded: list[StackConfig] = []
    evaluate_program(lambda: loaded.append(load_stack_config()), stack="dev", config=config)
    return loaded[0]


def test_loader_reads_typed_sections_from_stack_config() -> None:
    config = _load(
        {
            "agatha:environment": "prod",
            "agatha:vpcCidr": "10.30.0.0/16",
            "agatha:availabilityZones": ["us-east-1a", "us-east-1b"],
            "agatha:certificateArn": "arn:aws:acm:us-east-1:1:certificate/x",
            "agatha:dbInstanceCount": "3",
            "agatha:production": "true",
        }
    )
    assert config.network.vpc_cidr == "10.30.0.0/16"
    assert config.network.availability_zones == ("us-east-1a", "us-east-1b")
    assert config.data.db_instance_count == 3
    assert config.general.production is True
    assert config.stack == "dev"


def test_missing_required_key_names_key_stack_file_and_fix() -> None:
    with pytest.raises(Exception, match=r"agatha:environment' in Pulumi.dev.yaml is missing"):
        _load({"agatha:certificateArn": "arn:x"})


def test_invalid_cidr_is_rejected_with_the_key_and_a_fix() -> None:
    with pytest.raises(StackConfigError) as info:
        read_section(NetworkConfig, stack="prod", get_raw={"vpcCidr": "10.0.0.0/33"}.get)
    message = str(info.value)
    assert "agatha:vpcCidr" in message
    assert "Pulumi.prod.yaml" in message
    assert "Fix:" in message


def test_enum_violation_is_reported_for_nat_strategy() -> None:
    with pytest.raises(StackConfigError, match="natStrategy"):
        read_section(NetworkConfig, stack="dev", get_raw={"natStrategy": "many"}.get)


def test_cross_field_error_names_the_key() -> None:
    with pytest.raises(StackConfigError, match="clientVpnEnabled"):
        read_section(NetworkConfig, stack="dev", get_raw={"clientVpnEnabled": "true"}.get)


def test_list_key_that_is_not_json_is_rejected() -> None:
    with pytest.raises(StackConfigError, match="availabilityZones"):
        read_section(NetworkConfig, stack="dev", get_raw={"availabilityZones": "[oops"}.get)


def test_pulumi_yaml_documents_every_key_and_matches_declarations() -> None:
    on_disk = (REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    assert on_disk == render_project_file(), "run `agatha config schema --write`"
    documented = yaml.safe_load(on_disk)["config"]
    for section in SECTIONS:
        for name, field in section.model_fields.items():
            entry = documented[field.alias or name]
            assert entry["description"], f"{field.alias} has no description"
            assert entry["type"] in {"string", "integer", "boolean", "array"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_only_set_declared_keys(stack: str) -> None:
    declared = {f"agatha:{f.alias}" for s in SECTIONS for f in s.model_fields.values()}
    settings = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    unknown = {k for k in settings if k.startswith("agatha:")} - declared
    assert not unknown, f"undeclared keys in Pulumi.{stack}.yaml: {sorted(unknown)}"


def test_stack_files_differ_in_values_only() -> None:
    dev = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    prod = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())["config"]
    assert set(dev) == set(prod)


def test_secure_values_are_replaced_and_marked_secret(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: agatha\nconfig:\n  owner:\n    default: me\n")
    (tmp_path / "Pulumi.x.yaml").write_text(
        "config:\n  agatha:token:\n    secure: v1:abc\n  agatha:count: 3\n"
    )
    settings = load_stack_settings(tmp_path, "x")
    assert settings.config["agatha:owner"] == "me"
    assert settings.config["agatha:count"] == "3"
    assert settings.secret_keys == ("agatha:token",)
    assert settings.config["agatha:token"] != "v1:abc"
