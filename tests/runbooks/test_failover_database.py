from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.aws import AwsSession
from runbooks.errors import PreconditionFailed
from runbooks.failover_database import do_failover_database, read_cluster
from tests.runbooks.opskit import Platform, make_ctx


def test_fails_over_to_reader_with_best_promotion_tier(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    ctx = make_ctx(aws, tmp_path)
    report = do_failover_database(ctx)
    # Instance 2 has promotion tier 1, instance 1 tier 2.
    assert report["previous_writer"] == "agatha-dev-db-0"
    assert report["writer"] == "agatha-dev-db-2"
    assert read_cluster(ctx, "agatha-dev-db").writer == "agatha-dev-db-2"


def test_chosen_target_becomes_writer_and_rerun_is_a_no_op(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    ctx = make_ctx(aws, tmp_path)
    do_failover_database(ctx, target="agatha-dev-db-1")
    again = do_failover_database(ctx, target="agatha-dev-db-1")
    assert again["writer"] == "agatha-dev-db-1"
    assert {s["state"] for s in again["steps"]} == {"already-done"}


def test_unknown_target_is_refused_naming_the_readers(
    aws: AwsSession, platform: Platform, tmp_path: Path
) -> None:
    with pytest.raises(PreconditionFailed, match="agatha-dev-db-1, agatha-dev-db-2"):
        do_failover_database(make_ctx(aws, tmp_path), target="nope")
    assert read_cluster(make_ctx(aws, tmp_path), "agatha-dev-db").writer == "agatha-dev-db-0"
