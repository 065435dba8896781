"""The inbox: which events each consumer has processed, so each has one effect.

One document per (consumer, event id), `_id` being both, so the unique `_id` index
decides races. Before calling a handler the bus *claims* the event:

- `claimed`: nobody processed it; run the handler, then `complete`, or `release`
  on failure so the retry can claim it again;
- `done`: processed before (a redelivery or a second publish): acknowledge only;
- `busy`: another worker holds a fresh claim (two copies racing): retry later.

A claim has a lease, so one left by a crashed worker expires and the event is
processed again; handlers key their side effects deterministically for that case.

Claims and completions arriving together (a consumer holds up to `prefetch`
messages) are written as one bulk write each: two store round trips per batch
instead of two per event, which is what bounds throughput on a busy store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Generic, Literal, TypeVar

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from shared.mongo import IndexSpec, epoch

COLLECTION = "inbox"
INDEXES = [IndexSpec(COLLECTION, [("at", 1)])]
DUPLICATE_KEY = 11000
Claim = Literal["claimed", "done", "busy"]
T = TypeVar("T")


class MongoInbox:
    def __init__(self, db: AsyncDatabase, lease_seconds: float = 120.0) -> None:
        self.collection = db[COLLECTION]
        self.lease_seconds = lease_seconds
        self._claims = _GroupWrite(self._insert_claims)
        self._completions = _GroupWrite(self._mark_done)

    async def claim(self, consumer: str, event_id: str) -> Claim:
        key = f"{consumer}:{event_id}"
        if await self._claims.submit(key):
            return "claimed"
        expired = await self.collection.find_one_and_update(
            {"_id": key, "status": "processing", "lease_until": {"$lt": epoch()}},
            {"$set": {"lease_until": epoch(plus_seconds=self.lease_seconds)}},
        )
        if expired is not None:
            return "claimed"
        existing = await self.collection.find_one({"_id": key}, {"status": 1})
        if existing is None:  # released between our insert and our read: try again later
            return "busy"
        return "done" if existing["status"] == "done" else "busy"

    async def complete(self, consumer: str, event_id: str) -> None:
        await self._completions.submit(f"{consumer}:{event_id}")

    async def release(self, consumer: str, event_id: str) -> None:
        await self.collection.delete_one({"_id": f"{consumer}:{event_id}", "status": "processing"})

    async def _insert_claims(self, keys: list[str]) -> list[bool]:
        """Insert a claim per key; False where the key was already there."""
        now, lease_until = datetime.now(UTC), epoch(plus_seconds=self.lease_seconds)
        ops = [InsertOne({"_id": k, "status": "processing", "lease_until": lease_until, "at": now}) for k in keys]
        try:
            await self.collection.bulk_write(ops, ordered=False)
            return [True] * len(keys)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            taken = {e["index"] for e in errors}
            return [i not in taken for i in range(len(keys))]

    async def _mark_done(self, keys: list[str]) -> list[None]:
        now = datetime.now(UTC)
        await self.collection.bulk_write(
            [
                UpdateOne({"_id": k}, {"$set": {"status": "done", "at": now}, "$unset": {"lease_until": ""}})
                for k in keys
            ],
            ordered=False,
        )
        return [None] * len(keys)


class _GroupWrite(Generic[T]):
    """Collects the requests made in one turn of the event loop and writes them
    with one call; each caller gets its own result (or the shared error)."""

    def __init__(self, write: Callable[[list[str]], Awaitable[list[T]]]) -> None:
        self._write = write
        self._pending: list[tuple[str, asyncio.Future[T]]] = []
        self._tasks: set[asyncio.Task] = set()

    def submit(self, key: str) -> asyncio.Future[T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((key, future))
        if len(self._pending) == 1:
            task = asyncio.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the other handlers of this turn join the batch
        batch, self._pending = self._pending, []
        try:
            results = await self._write([key for key, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=False):
            if not future.done():
                future.set_result(result)
