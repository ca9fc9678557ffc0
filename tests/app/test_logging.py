"""Log masking: secrets, API keys, emails and card numbers; prompts dropped."""

from __future__ import annotations

import json

from app.logging import configure_logging, get_logger, mask_text


def test_mask_text_hides_keys_emails_and_cards() -> None:
    text = "key agk_abcdefghijklmnop from bob@example.com card 4111 1111 1111 1111"
    masked = mask_text(text)
    assert "agk_abcdefghijklmnop" not in masked and "bob@example.com" not in masked
    assert "4111" not in masked and "<email>" in masked and "<card>" in masked


def test_logged_events_drop_prompts_and_mask_secret_fields(capsys) -> None:
    configure_logging("INFO")
    get_logger("t").info(
        "event", prompt="my secret prompt", api_key="agk_123456789", detail={"token": "x"}
    )
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert "prompt" not in line
    assert line["api_key"] == "***" and line["detail"] == {"token": "***"}


def test_trusted_fields_pass_verbatim_and_client_fields_are_still_masked(capsys) -> None:
    configure_logging("INFO")
    get_logger("t").info(
        "request",
        method="POST",
        route="/api/inference",
        status=202,
        ms=1.5,
        request_id="agk_abcdefghijklmnop",
        client="bob@example.com",
    )
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["route"] == "/api/inference" and line["status"] == 202 and line["ms"] == 1.5
    assert line["timestamp"].endswith("Z")
    assert line["request_id"] == "agk_***" and line["client"] == "<email>"


def test_token_counts_are_logged_but_token_values_are_not(capsys) -> None:
    configure_logging("INFO")
    get_logger("t").info(
        "job.completed", tokens_in=3, tokens_out=5, max_tokens=64, id_token="x", token="y"
    )
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (line["tokens_in"], line["tokens_out"], line["max_tokens"]) == (3, 5, 64)
    assert line["id_token"] == "***" and line["token"] == "***"
