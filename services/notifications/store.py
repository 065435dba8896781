"""Notifications data: the contact projection and the delivery log.

A delivery's `_id` is its deterministic key (`event id:recipient:channel:template`).
Claiming a delivery inserts it with a short lease, so a duplicate event, a
redelivery or two replicas racing lead to one send; a lease left by a crashed
replica expires and the send is tried again.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.contracts import MemberContact
from shared.mongo import IndexSpec, epoch, from_store

CONTACTS = "contacts"
DELIVERIES = "deliveries"
INDEXES = [
    IndexSpec(DELIVERIES, [("member_id", 1), ("created_at", -1)]),
    IndexSpec(DELIVERIES, [("source_event_id", 1)]),
    IndexSpec(DELIVERIES, [("status", 1), ("created_at", -1)]),
]
LEASE_SECONDS = 60.0


class DeliveryInProgress(Exception):
    """Another worker holds this delivery's lease; retry later."""


class ContactStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.contacts = db[CONTACTS]

    async def upsert(self, contact: MemberContact, event_time: datetime) -> None:
        """Keep the newest contact data: an older event arriving late changes nothing.

        One conditional upsert: when the stored copy is newer the filter misses, the
        upsert collides on `_id`, and the duplicate-key error means "keep what we have".
        """
        doc = contact.model_dump(mode="json", exclude={"member_id"})
        try:
            await self.contacts.update_one(
                {"_id": contact.member_id, "$or": [{"as_of": {"$lte": event_time}}, {"as_of": {"$exists": False}}]},
                {"$set": {**doc, "as_of": event_time}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass

    async def erase(self, member_id: str) -> None:
        await self.contacts.update_one(
            {"_id": member_id}, {"$set": {"erased": True, "as_of": datetime.now(timezone.utc)},
                                 "$unset": {"full_name": "", "email": "", "phone": "", "date_of_birth": ""}},
            upsert=True,
        )


class DeliveryStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.deliveries = db[DELIVERIES]

    async def claim(self, key: str, record: dict[str, Any]) -> bool:
        """Take the right to send `key`. False: it was already sent or failed for good."""
        now = datetime.now(timezone.utc)
        try:
            await self.deliveries.insert_one({
                "_id": key, **record, "status": "sending", "attempts": 1,
                "lease_until": epoch(now, plus_seconds=LEASE_SECONDS), "created_at": now, "updated_at": now,
            })
            return True
        except DuplicateKeyError:
            pass
        reclaimed = await self.deliveries.find_one_and_update(
            {"_id": key, "status": {"$in": ["sending", "deferred"]}, "lease_until": {"$lt": epoch(now)}},
            {"$set": {"status": "sending", "lease_until": epoch(now, plus_seconds=LEASE_SECONDS), "updated_at": now},
             "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if reclaimed is not None:
            return True
        existing = await self.deliveries.find_one({"_id": key}, {"status": 1})
        if existing is not None and existing["status"] in ("sent", "failed"):
            return False
        raise DeliveryInProgress(key)

    async def mark_sent(self, key: str) -> None:
        now = datetime.now(timezone.utc)
        await self.deliveries.update_one(
            {"_id": key}, {"$set": {"status": "sent", "sent_at": now, "updated_at": now}, "$unset": {"lease_until": ""}}
        )

    async def mark_failed(self, key: str, reason: str) -> None:
        await self.deliveries.update_one(
            {"_id": key}, {"$set": {"status": "failed", "last_error": reason, "updated_at": datetime.now(timezone.utc)},
                           "$unset": {"lease_until": ""}}
        )

    async def mark_deferred(self, key: str, reason: str) -> None:
        """Give the lease back at once so the retry can claim it."""
        now = datetime.now(timezone.utc)
        await self.deliveries.update_one(
            {"_id": key}, {"$set": {"status": "deferred", "last_error": reason, "lease_until": epoch(now),
                                    "updated_at": now}}
        )

    async def list(self, *, member_id: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if member_id:
            query["member_id"] = member_id
        if status:
            query["status"] = status
        cursor = self.deliveries.find(query, {"lease_until": 0}).sort("created_at", -1).limit(limit)
        return [{"key": d.pop("_id"), **from_store(d)} async for d in cursor]
