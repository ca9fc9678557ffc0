"""Datadog monitor and integration specs (pure: no Datadog SDK import)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import monitoring_datadog_specs as specs
from components.config.monitoring import MonitoringConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGETS = {
    "alb": "app/Agatha-Prod-ALB/50dc",
    "queue": "agatha-prod-jobs",
    "dlq": "agatha-prod-jobs-dlq",
    "function": "agatha-prod-worker",
}


def _by_key() -> dict[str, specs.MonitorSpec]:
    return {m.key: m for m in specs.monitor_specs(MonitoringConfig())}


def test_monitors_mirror_the_service_objectives() -> None:
    assert set(_by_key()) == {
        "gateway-error-rate",
        "gateway-latency",
        "queue-age",
        "worker-failure-rate",
        "dlq-depth",
    }


def test_queries_fill_lower_cased_resource_names_into_datadog_tag_filters() -> None:
    monitors = _by_key()
    assert monitors["dlq-depth"].query(TARGETS) == (
        "max(last_10m):max:aws.sqs.approximate_number_of_messages_visible"
        "{queuename:agatha-prod-jobs-dlq} > 0"
    )
    error_rate = monitors["gateway-error-rate"].query(TARGETS)
    assert error_rate.count("{loadbalancer:app/agatha-prod-alb/50dc}") == 2
    assert error_rate.endswith(f"> {MonitoringConfig().alb_5xx_rate_percent}")
    assert "{functionname:agatha-prod-worker}" in monitors["worker-failure-rate"].query(TARGETS)
    assert "{queuename:agatha-prod-jobs}" in monitors["queue-age"].query(TARGETS)


def test_thresholds_come_from_config() -> None:
    config = MonitoringConfig.model_validate({"queueAgeSeconds": 600})
    queue = next(m for m in specs.monitor_specs(config) if m.key == "queue-age")
    assert queue.critical == 600
    assert queue.query(TARGETS).endswith("> 600")


def test_every_monitor_names_an_existing_runbook_and_its_handle() -> None:
    for monitor in specs.monitor_specs(MonitoringConfig()):
        assert (REPO_ROOT / monitor.runbook_path).is_file()
        message = monitor.message("@pagerduty-agatha")
        assert monitor.runbook_path in message
        assert "@pagerduty-agatha" in message
        assert monitor.severity in specs.PRIORITY


def test_monitor_tags_carry_stack_tags_severity_and_runbook() -> None:
    monitor = _by_key()["queue-age"]
    tags = specs.monitor_tags({"environment": "prod", "service": "agatha"}, monitor)
    assert tags == [
        "environment:prod",
        "service:agatha",
        "severity:critical",
        "runbook:queue-backlog",
    ]


def test_integration_role_trusts_only_datadog_with_the_external_id() -> None:
    trust = specs.integration_assume_role_policy(external_id="ext-123")
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::464622532012:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-123"}}


def test_integration_policy_is_read_only_without_wildcard_actions() -> None:
    (statement,) = specs.integration_role_policy()["Statement"]
    for action in statement["Action"]:
        assert "*" not in action
        verb = action.split(":", 1)[1]
        assert verb.startswith(("Get", "List", "Describe", "BatchGet")), action


def test_availability_slo_counts_good_as_requests_minus_5xx() -> None:
    good, total = specs.availability_queries("app/X/1")
    assert total == "sum:aws.applicationelb.request_count{loadbalancer:app/x/1}.as_count()"
    assert good.startswith(total) and "httpcode_target_5xx" in good


def test_service_dashboard_shows_every_objective_and_the_slos() -> None:
    body = specs.service_dashboard(title="t", targets=TARGETS, slo_ids=["slo-a", "slo-b"])
    text = str(body)
    for metric in ("request_count", "target_response_time.p99", "approximate_age_of_oldest_message",
                   "approximate_number_of_messages_visible", "aws.lambda.errors"):  # fmt: skip
        assert metric in text
    slo_widgets = [w for w in body["widgets"] if w["definition"]["type"] == "slo"]
    assert [w["definition"]["slo_id"] for w in slo_widgets] == ["slo-a", "slo-b"]


def test_a_handle_map_missing_a_severity_is_refused() -> None:
    with pytest.raises(ValueError, match="info"):
        specs.check_handles({"critical": "@a", "warning": "@b"})
