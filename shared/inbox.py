"""The inbox: which events each consumer has already processed.

One document per (consumer, event id), `_id` being both, so the unique `_id` index
makes "record twice" impossible. The bus checks it before calling a handler and
records after the handler returned; handlers also key their effects
deterministically, so a crash between effect and record still has one effect.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.mongo import IndexSpec

COLLECTION = "inbox"
INDEXES = [IndexSpec(COLLECTION, [("at", 1)])]


class MongoInbox:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[COLLECTION]

    async def seen(self, consumer: str, event_id: str) -> bool:
        return await self.collection.find_one({"_id": f"{consumer}:{event_id}"}, {"_id": 1}) is not None

    async def record(self, consumer: str, event_id: str) -> None:
        try:
            await self.collection.insert_one(
                {"_id": f"{consumer}:{event_id}", "at": datetime.now(timezone.utc)}
            )
        except DuplicateKeyError:
            pass  # a racing replica recorded it first: same outcome
