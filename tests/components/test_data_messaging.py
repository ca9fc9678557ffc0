"""Pure helpers of the SQS/SNS module."""

from __future__ import annotations

import pytest

from components.data_messaging import visibility_timeout_seconds


def test_visibility_timeout_is_six_times_the_worker_timeout() -> None:
    assert visibility_timeout_seconds(120) == 720
    assert visibility_timeout_seconds(900) == 5400


def test_visibility_timeout_beyond_the_sqs_maximum_names_the_fix() -> None:
    with pytest.raises(ValueError, match="workerTimeoutSeconds"):
        visibility_timeout_seconds(7201)
