"""NewestWins (shared/projection.py) reading what the store answers its bulk writes: each
event's own outcome, a taken `_id` tried once more (two first writes of a key racing on
MongoDB 7, where the loser may be the newer), and a write concern error never taken for done.
The store's answers are scripted here; tests/integration/test_projection.py runs the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError, WriteError

from shared.projection import NewestWins

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
MAJORITY_TIMED_OUT = {"code": 64, "codeName": "WriteConcernFailed", "errmsg": "waiting for replication timed out"}


def answer(
    upserted: tuple[int, ...] = (),
    refused: dict[int, int] | None = None,
    concern_errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What MongoDB answers an unordered bulk write: the positions upserted, and the ones
    refused with their codes."""
    return {
        "writeErrors": [{"index": i, "code": code, "errmsg": f"code {code}"} for i, code in (refused or {}).items()],
        "writeConcernErrors": concern_errors or [],
        "nUpserted": len(upserted),
        "upserted": [{"index": i, "_id": f"k{i}"} for i in upserted],
    }


class Answered:
    def __init__(self, result: dict[str, Any]) -> None:
        self.bulk_api_result = result


class Scripted:
    """A collection answering each bulk write with the next scripted answer."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.sizes: list[int] = []

    async def bulk_write(self, ops: list, ordered: bool) -> Answered:
        assert ordered is False
        self.sizes.append(len(ops))
        result = self.answers.pop(0)
        if result["writeErrors"] or result["writeConcernErrors"]:
            raise BulkWriteError(result)
        return Answered(result)


async def apply_together(projection: NewestWins, count: int) -> list[Any]:
    """`count` events of different members in one turn (one batch), each outcome or error."""
    return await asyncio.wait_for(
        asyncio.gather(
            *(projection.apply(f"m{i}", {"$set": {"n": i}}, T0 + timedelta(seconds=i)) for i in range(count)),
            return_exceptions=True,
        ),
        5,
    )


async def test_a_newer_event_that_lost_the_race_to_create_its_document_is_applied_on_the_second_try():
    # m1's upsert collided with another replica's first write of m1; that write was older,
    # so once the document exists the filter matches it and m1's values are written.
    store = Scripted(answer(upserted=[0, 2], refused={1: 11000}), answer())
    assert await apply_together(NewestWins(store), 3) == ["new", "updated", "new"]
    assert store.sizes == [3, 1], "only the refused write goes again"


async def test_an_event_refused_again_on_the_second_try_is_stale():
    store = Scripted(answer(upserted=[0], refused={1: 11000}), answer(refused={0: 11000}))
    assert await apply_together(NewestWins(store), 2) == ["new", "stale"]


async def test_an_event_the_store_refuses_fails_alone_and_the_others_keep_their_outcome():
    store = Scripted(answer(upserted=[0], refused={1: 121, 2: 11000}), answer(refused={0: 11000}))
    new, invalid, stale, updated = await apply_together(NewestWins(store), 4)
    assert (new, stale, updated) == ("new", "stale", "updated")
    assert isinstance(invalid, WriteError) and invalid.code == 121


async def test_a_batch_whose_majority_timed_out_is_not_reported_applied():
    store = Scripted(answer(upserted=[0, 1], concern_errors=[MAJORITY_TIMED_OUT]))
    outcomes = await apply_together(NewestWins(store), 2)
    assert all(isinstance(o, BulkWriteError) for o in outcomes), outcomes


async def test_a_second_try_whose_majority_timed_out_fails_only_the_retried_event():
    store = Scripted(
        answer(upserted=[0], refused={1: 11000}), answer(upserted=[0], concern_errors=[MAJORITY_TIMED_OUT])
    )
    new, retried = await apply_together(NewestWins(store), 2)
    assert new == "new"
    assert isinstance(retried, BulkWriteError)
