"""What an unordered bulk write refused (shared/mongo.py), read from the BulkWriteError
MongoDB sends: a taken key is a duplicate, anything else is that write's own error, and a
write concern error (w: majority not confirmed in time) means no write of it is done."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

from shared.mongo import insert_groups_unless_taken, insert_unless_taken, refused_writes

MAJORITY_TIMED_OUT = {"code": 64, "codeName": "WriteConcernFailed", "errmsg": "waiting for replication timed out"}


def bulk_error(
    write_errors: list[dict[str, Any]], concern_errors: list[dict[str, Any]] | None = None
) -> BulkWriteError:
    return BulkWriteError(
        {
            "writeErrors": write_errors,
            "writeConcernErrors": concern_errors or [],
            "nInserted": 0,
            "nUpserted": 0,
            "nMatched": 0,
            "nModified": 0,
            "nRemoved": 0,
            "upserted": [],
        }
    )


def taken(index: int) -> dict[str, Any]:
    return {"index": index, "code": 11000, "errmsg": "E11000 duplicate key error dup key: { _id: ... }"}


def invalid(index: int) -> dict[str, Any]:
    return {"index": index, "code": 121, "errmsg": "Document failed validation"}


class Refusing:
    """A collection whose inserts end with the given BulkWriteError (the rest written)."""

    def __init__(self, error: BulkWriteError | None) -> None:
        self.error = error
        self.inserted: list[list[dict[str, Any]]] = []

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool) -> None:
        assert ordered is False
        self.inserted.append(docs)
        if self.error is not None:
            raise self.error


def test_a_write_concern_error_is_raised_even_with_no_write_refused():
    error = bulk_error([], [MAJORITY_TIMED_OUT])
    with pytest.raises(BulkWriteError) as raised:
        refused_writes(error)
    assert raised.value is error
    with pytest.raises(BulkWriteError):
        refused_writes(bulk_error([taken(1)], [MAJORITY_TIMED_OUT]))


async def test_an_insert_whose_majority_timed_out_is_not_reported_done():
    with pytest.raises(BulkWriteError):
        await insert_unless_taken(Refusing(bulk_error([], [MAJORITY_TIMED_OUT])), [{"_id": "a"}])


async def test_an_insert_reports_taken_keys_and_raises_another_refusal_as_that_writes_error():
    assert await insert_unless_taken(Refusing(bulk_error([taken(1)])), [{"_id": "a"}, {"_id": "b"}]) == {1}
    with pytest.raises(WriteError) as raised:
        await insert_unless_taken(Refusing(bulk_error([taken(0), invalid(1)])), [{"_id": "a"}, {"_id": "b"}])
    assert raised.value.code == 121
    assert await insert_unless_taken(Refusing(None), []) == set()


async def test_groups_inserted_together_hear_only_of_their_own_refusals():
    store = Refusing(bulk_error([taken(1), invalid(3)]))
    groups = [[{"_id": "a"}, {"_id": "b"}], [{"_id": "c"}, {"_id": "d"}], [{"_id": "e"}]]
    first, second, third = await insert_groups_unless_taken(store, groups)
    assert first == {1}  # "b" was there already
    assert isinstance(second, WriteError) and not isinstance(second, DuplicateKeyError)
    assert second.code == 121 and second.details["index"] == 3
    assert third == set()
    assert store.inserted == [[{"_id": k} for k in "abcde"]], "one insert for every group"


async def test_groups_inserted_together_all_fail_when_the_majority_timed_out():
    with pytest.raises(BulkWriteError):
        await insert_groups_unless_taken(
            Refusing(bulk_error([], [MAJORITY_TIMED_OUT])), [[{"_id": "a"}], [{"_id": "b"}]]
        )
