"""The inbox: which events each consumer has processed, so each has one effect.

One document per (consumer, event id), `_id` being both, so the unique `_id` index
decides races. Before calling a handler the bus *claims* the event:

- `claimed`: nobody processed it; run the handler, then `complete`, or `release`
  on failure so the retry can claim it again;
- `done`: processed before (a redelivery or a second publish): acknowledge only;
- `busy`: another worker holds a fresh claim (two copies racing): retry later.

A claim has a lease, so one left by a crashed worker expires and the event is
processed again; handlers key their side effects deterministically for that case.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.mongo import IndexSpec, epoch

COLLECTION = "inbox"
INDEXES = [IndexSpec(COLLECTION, [("at", 1)])]
Claim = Literal["claimed", "done", "busy"]


class MongoInbox:
    def __init__(self, db: AsyncDatabase, lease_seconds: float = 120.0) -> None:
        self.collection = db[COLLECTION]
        self.lease_seconds = lease_seconds

    async def claim(self, consumer: str, event_id: str) -> Claim:
        key = f"{consumer}:{event_id}"
        now = epoch()
        try:
            await self.collection.insert_one({
                "_id": key, "status": "processing", "lease_until": now + self.lease_seconds,
                "at": datetime.now(timezone.utc),
            })
            return "claimed"
        except DuplicateKeyError:
            pass
        expired = await self.collection.find_one_and_update(
            {"_id": key, "status": "processing", "lease_until": {"$lt": now}},
            {"$set": {"lease_until": now + self.lease_seconds}},
        )
        if expired is not None:
            return "claimed"
        existing = await self.collection.find_one({"_id": key}, {"status": 1})
        if existing is None:  # released between our insert and our read: try again later
            return "busy"
        return "done" if existing["status"] == "done" else "busy"

    async def complete(self, consumer: str, event_id: str) -> None:
        await self.collection.update_one(
            {"_id": f"{consumer}:{event_id}"},
            {"$set": {"status": "done", "at": datetime.now(timezone.utc)}, "$unset": {"lease_until": ""}},
        )

    async def release(self, consumer: str, event_id: str) -> None:
        await self.collection.delete_one({"_id": f"{consumer}:{event_id}", "status": "processing"})
