from pymongo.errors import DuplicateKeyError

from shared.mongo import duplicate_key, from_store


def test_duplicate_key_names_the_field_on_mongodb_and_nx():
    real = DuplicateKeyError("E11000", 11000, {"keyPattern": {"email": 1}, "errmsg": "E11000 duplicate key error"})
    assert duplicate_key(real) == "email"
    nx = DuplicateKeyError("dup", 11000, {"errmsg": "UNIQUE constraint failed: index 'idx_members_email'"})
    assert duplicate_key(nx) == "email"
    legacy = DuplicateKeyError(
        "dup", 11000, {"errmsg": "E11000 duplicate key error collection: db.members index: phone_1 dup key"}
    )
    assert duplicate_key(legacy) == "phone"


def test_from_store_restores_timestamps_written_as_text():
    doc = from_store({"sent_at": "2026-11-27 09:29:49.606000", "name": "An", "n": {"at": "2026-11-27 09:29:49"}})
    assert doc["sent_at"].isoformat() == "2026-11-27T09:29:49.606000+00:00"
    assert doc["n"]["at"].tzinfo is not None and doc["name"] == "An"


def test_a_store_that_answered_lately_needs_no_ping_and_a_failure_without_answer_asks_again():
    from types import SimpleNamespace

    from shared.mongo import StoreAnswers

    answers = StoreAnswers()
    assert not answers.answered_within(30)  # never heard from: ping
    answers.succeeded(SimpleNamespace())  # type: ignore[arg-type]
    assert answers.answered_within(30)
    answers.failed(SimpleNamespace(failure={"ok": 0, "code": 2, "errmsg": "bad query"}))  # type: ignore[arg-type]
    assert answers.answered_within(30)  # the store answered, with an error of the command's own
    answers.failed(SimpleNamespace(failure={"errmsg": "connection refused", "errtype": "AutoReconnect"}))  # type: ignore[arg-type]
    assert not answers.answered_within(30)
    answers.succeeded(SimpleNamespace())  # type: ignore[arg-type]
    no_primary = {"ok": 0, "code": 10107, "codeName": "NotWritablePrimary", "errmsg": "not primary"}
    answers.failed(SimpleNamespace(failure=no_primary))  # type: ignore[arg-type]
    assert not answers.answered_within(30)  # an answer, but one that says it cannot serve
