import json
import logging

import structlog

from shared.logging import configure_logging, get_logger, mask_sensitive


def masked(**event):
    return mask_sensitive(None, "info", event)


def test_secrets_are_masked_by_key_wherever_they_are():
    out = masked(
        event="login",
        password="hunter2",
        headers={"Authorization": "Bearer abc", "X-Api-Key": "k"},
        nested=[{"token": "t"}],
        smtp_password="p",
    )
    assert out["password"] == "***"
    assert out["headers"] == {"Authorization": "***", "X-Api-Key": "***"}
    assert out["nested"] == [{"token": "***"}]
    assert out["smtp_password"] == "***"


def test_emails_and_phone_numbers_are_masked_inside_any_text():
    out = masked(
        event="sending to an@example.com",
        to=["Nguyễn <an.nguyen@lhh-binhduong.org.vn>"],
        detail="call 0912 345 678 or +84912345678 or 84912345678 or 091.234.5678",
    )
    text = json.dumps(out, ensure_ascii=False)
    for leaked in ("an@example.com", "an.nguyen@", "0912 345 678", "+84912345678", "84912345678", "091.234.5678"):
        assert leaked not in text
    assert out["event"] == "sending to <email>"


def test_ids_dates_and_numbers_are_left_alone():
    event_id = "e3a504b3-46e3-48a4-8710-7bd0d30a673c"
    out = masked(event="x", event_id=event_id, at="2026-11-27T09:29:49Z", ms=12.5, count=1234567890)
    assert out["event_id"] == event_id
    assert out["at"] == "2026-11-27T09:29:49Z"
    assert out["ms"] == 12.5 and out["count"] == 1234567890


def test_log_lines_are_json_with_service_and_ids(capsys):
    configure_logging("membership")
    structlog.contextvars.bind_contextvars(request_id="r1", correlation_id="c1")
    try:
        get_logger("t").info("member.created", email="a@b.vn")
    finally:
        structlog.contextvars.clear_contextvars()
        # The configuration captured this test's stdout: leave none behind for later tests.
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["service"] == "membership"
    assert line["request_id"] == "r1" and line["correlation_id"] == "c1"
    assert line["event"] == "member.created"
    assert line["email"] == "<email>"
