"""The inbox: which events each consumer has processed, so each has one effect.

One document per (consumer, event id), `_id` being both, so the unique `_id` index
decides races. Before calling a handler the bus *claims* the event:

- `claimed`: nobody processed it; run the handler, then `complete`, or `release`
  on failure so the retry can claim it again;
- `done`: processed before (a redelivery or a second publish): acknowledge only;
- `busy`: another worker holds a fresh claim (two copies racing): retry later.

A claim carries its holder (one id per process) and a short lease that the holder
renews while the handler works (one write per few seconds for all of a process's
claims, none when idle). So a claim whose holder is gone is taken over promptly:
at once by its own process when no handler of it is working on the event any more
(the broker redelivered it after a connection drop), and by another process as
soon as the lease lapses. A claim whose handler was cancelled while the claim was
being written is deleted again, so it never blocks the redelivered copy. Handlers
key their side effects deterministically, so a takeover does no harm.

Claims and completions arriving together (a consumer holds up to `prefetch`
messages) are written as one bulk write each: two store round trips per batch
instead of two per event, which is what bounds throughput on a busy store.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, WriteError

from shared.batching import GroupWrite
from shared.clock import epoch, now_utc
from shared.loops import BackgroundLoop
from shared.mongo import IndexSpec, bulk_write_each

COLLECTION = "inbox"
INDEXES = [IndexSpec(COLLECTION, [("at", 1)])]
Claim = Literal["claimed", "done", "busy"]


class MongoInbox:
    def __init__(self, db: AsyncDatabase, lease_seconds: float = 15.0, renew_seconds: float | None = None) -> None:
        self.collection = db[COLLECTION]
        self.lease_seconds = lease_seconds
        self.owner = uuid.uuid4().hex  # this process's claims
        self._active: set[str] = set()  # claims a handler of this process is working on
        self._claims: GroupWrite[str, bool] = GroupWrite(self._insert_claims, on_abandoned=self._drop_abandoned)
        self._completions: GroupWrite[str, None] = GroupWrite(self._mark_done)
        self._renewer = BackgroundLoop(
            "inbox-lease-renewal", self._renew, idle_seconds=renew_seconds or lease_seconds / 3
        )

    async def claim(self, consumer: str, event_id: str) -> Claim:
        key = f"{consumer}:{event_id}"
        if key in self._active:
            return "busy"  # another copy is being handled right here: wait for it
        if await self._claims.submit(key):
            return self._hold(key)
        # Ours but nobody works on it any more, or its holder's lease lapsed: take it over.
        # `$or` inside `$and`: the embedded store ignores the other conditions of a write's
        # filter when `$or` sits beside them (tests/integration/test_store_shapes.py).
        taken = await self.collection.find_one_and_update(
            {
                "$and": [
                    {"_id": key, "status": "processing"},
                    {"$or": [{"owner": self.owner}, {"lease_until": {"$lt": epoch()}}]},
                ]
            },
            {"$set": {"lease_until": epoch(plus_seconds=self.lease_seconds), "owner": self.owner}},
        )
        if taken is not None and key not in self._active:
            return self._hold(key)
        existing = await self.collection.find_one({"_id": key}, {"status": 1})
        if existing is None:  # released between our insert and our read: try again later
            return "busy"
        return "done" if existing["status"] == "done" else "busy"

    async def complete(self, consumer: str, event_id: str) -> None:
        key = f"{consumer}:{event_id}"
        try:
            await self._completions.submit(key)
        finally:
            self._active.discard(key)

    async def release(self, consumer: str, event_id: str) -> None:
        key = f"{consumer}:{event_id}"
        self._active.discard(key)
        await self.collection.delete_one({"_id": key, "status": "processing", "owner": self.owner})

    def forget(self, consumer: str, event_id: str) -> None:
        """This process no longer works on the event (its handler is gone) but could not
        release the claim: a redelivered copy here takes it over at once."""
        self._active.discard(f"{consumer}:{event_id}")

    async def close(self) -> None:
        await self._renewer.stop()

    def _hold(self, key: str) -> Claim:
        self._active.add(key)
        self._renewer.start()
        return "claimed"

    async def _renew(self) -> bool:
        """Renew the leases of every claim a handler here is working on (one write)."""
        if self._active:
            await self.collection.update_many(
                {"_id": {"$in": sorted(self._active)}, "status": "processing", "owner": self.owner},
                {"$set": {"lease_until": epoch(plus_seconds=self.lease_seconds)}},
            )
        return False

    async def _drop_abandoned(self, key: str) -> None:
        """A claim written for a handler that was cancelled meanwhile: delete it again."""
        self._active.discard(key)
        await self.collection.delete_one({"_id": key, "status": "processing", "owner": self.owner})

    async def _insert_claims(self, keys: list[str]) -> list[bool | Exception]:
        """Insert a claim per key; False where the key was already there, its own error
        where the store refused it otherwise."""
        now, lease_until = now_utc(), epoch(plus_seconds=self.lease_seconds)
        ops = [
            InsertOne({"_id": k, "status": "processing", "lease_until": lease_until, "owner": self.owner, "at": now})
            for k in keys
        ]
        _, refused = await bulk_write_each(self.collection, ops)
        return [_taken_or_failed(refused.get(i)) for i in range(len(keys))]

    async def _mark_done(self, keys: list[str]) -> list[Exception | None]:
        now = now_utc()
        done = {"$set": {"status": "done", "at": now}, "$unset": {"lease_until": ""}}
        _, refused = await bulk_write_each(self.collection, [UpdateOne({"_id": k}, done) for k in keys])
        return [refused.get(i) for i in range(len(keys))]


def _taken_or_failed(error: WriteError | None) -> bool | Exception:
    """A claim's outcome: True (inserted), False (its key was taken) or the store's refusal."""
    if error is None:
        return True
    return False if isinstance(error, DuplicateKeyError) else error
