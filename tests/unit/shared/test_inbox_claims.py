"""Inbox claims written together (shared/inbox.py): a claim the store refuses fails that
event's handling only; the events claimed with it in the same bulk write go ahead."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo.errors import BulkWriteError, WriteError

from shared.inbox import MongoInbox


class Refusing:
    """An inbox collection refusing one claim (by position) of the bulk write, with `code`."""

    def __init__(self, index: int, code: int) -> None:
        self.index, self.code = index, code

    async def bulk_write(self, ops: list, ordered: bool) -> Any:
        error = {"index": self.index, "code": self.code, "errmsg": f"code {self.code}"}
        raise BulkWriteError({"writeErrors": [error], "writeConcernErrors": [], "nInserted": len(ops) - 1})

    async def update_many(self, *args: Any) -> None:  # lease renewal
        pass

    async def find_one_and_update(self, *args: Any) -> None:  # a taken claim is not ours to take over
        return None

    async def find_one(self, *args: Any) -> dict[str, str]:  # ... for its event was processed before
        return {"status": "done"}


async def claims(collection: Refusing, *event_ids: str) -> list[Any]:
    inbox = MongoInbox({"inbox": collection})  # type: ignore[arg-type]
    try:
        return await asyncio.wait_for(
            asyncio.gather(*(inbox.claim("q", e) for e in event_ids), return_exceptions=True), 5
        )
    finally:
        await inbox.close()


async def test_a_refused_claim_fails_its_own_event_only():
    first, refused, third = await claims(Refusing(1, 121), "e1", "e2", "e3")
    assert (first, third) == ("claimed", "claimed")
    assert isinstance(refused, WriteError) and refused.code == 121


@pytest.mark.parametrize("index", [0, 1])
async def test_a_claim_already_taken_is_looked_at_and_the_others_are_claimed(index):
    outcomes = await claims(Refusing(index, 11000), "e1", "e2")
    assert outcomes[index] == "done"
    assert outcomes[1 - index] == "claimed"
