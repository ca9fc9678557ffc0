from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.aws import AwsSession
from runbooks.errors import StackOutputMissing
from runbooks.stack_outputs import StackOutputs, is_production, read_stack_file
from tests.runbooks.opskit import Platform


def test_reads_parameters_the_stack_publishes(aws: AwsSession, platform: Platform) -> None:
    outputs = StackOutputs(aws, stack="dev")
    assert outputs.parameter_name("queue-url") == "/agatha/dev/queue-url"
    assert outputs.get("queue-url") == platform["queue-url"]


def test_missing_parameter_names_stack_and_fix(aws: AwsSession) -> None:
    with pytest.raises(StackOutputMissing) as raised:
        StackOutputs(aws, stack="staging").get("queue-url")
    message = raised.value.format_message()
    assert "/agatha/staging/queue-url" in message
    assert "pulumi up -s staging" in message and "--region" in message


def test_unknown_key_is_a_programming_error(aws: AwsSession) -> None:
    with pytest.raises(ValueError, match="not a published output"):
        StackOutputs(aws, stack="dev").parameter_name("no-such-key")


def test_stack_without_local_file_counts_as_production(tmp_path: Path) -> None:
    assert is_production(read_stack_file(tmp_path, "prod")) is True


def test_stack_file_can_mark_a_stack_non_production(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  agatha:production: false\n")
    assert is_production(read_stack_file(tmp_path, "dev")) is False


def test_repository_stack_files_mark_dev_and_prod(repo_root: Path) -> None:
    assert is_production(read_stack_file(repo_root, "dev")) is False
    assert is_production(read_stack_file(repo_root, "prod")) is True
