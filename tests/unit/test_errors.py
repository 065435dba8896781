"""Problem answers stay small however large or deep the request was."""

from __future__ import annotations

import json

from shared.errors import MAX_FIELD_ERRORS, MAX_MESSAGE_CHARS, FieldError, Invalid


def test_field_paths_and_messages_are_bounded_and_errors_capped():
    long_path = ".".join(["$" + "k" * 1000] * 50)  # a deep body of long operator keys
    errors = [FieldError(long_path, "x" * 10_000, "operator_refused") for _ in range(500)]
    body = Invalid(*errors, field=long_path).public("vi")
    assert len(body["errors"]) == MAX_FIELD_ERRORS and body["errors_omitted"] == 451  # the field at fault comes first
    assert all(len(e["field"]) <= MAX_MESSAGE_CHARS and len(e["message"]) <= MAX_MESSAGE_CHARS for e in body["errors"])
    assert len(body["field"]) <= MAX_MESSAGE_CHARS
    assert len(json.dumps(body, ensure_ascii=False)) < 50_000
