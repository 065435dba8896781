"""Events data: the events themselves and the local projection of members."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.contracts import MemberContact
from shared.mongo import IndexSpec

EVENTS = "events"
MEMBERS = "members"  # projection kept from membership's events, never a call to membership
INDEXES = [
    IndexSpec(EVENTS, [("starts_at", 1)]),
    IndexSpec(MEMBERS, [("status", 1)]),
]


class MemberProjection:
    """Who is a member, and of which organisations: for members-only events."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.members = db[MEMBERS]

    async def apply(self, member: MemberContact, event_time: datetime) -> None:
        # Newest wins: a late, older event matches nothing and collides on _id.
        try:
            await self.members.update_one(
                {"_id": member.member_id, "$or": [{"as_of": {"$lte": event_time}}, {"as_of": {"$exists": False}}]},
                {"$set": {"status": member.status, "organization_ids": member.organization_ids,
                          "full_name": member.full_name, "email": member.email, "phone": member.phone,
                          "language": member.language, "as_of": event_time}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass

    async def erase(self, member_id: str) -> None:
        await self.members.update_one(
            {"_id": member_id},
            {"$set": {"status": "erased", "as_of": datetime.now(timezone.utc)},
             "$unset": {"full_name": "", "email": "", "phone": ""}},
            upsert=True,
        )

    async def is_active_member(self, member_id: str) -> bool:
        return await self.members.find_one({"_id": member_id, "status": "active"}, {"_id": 1}) is not None


class EventStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.events = db[EVENTS]

    async def list(self, limit: int) -> list[dict[str, Any]]:
        cursor = self.events.find({"status": {"$in": ["published", "registration_closed", "completed"]}})
        return [{"id": d.pop("_id"), **d} async for d in cursor.sort("starts_at", 1).limit(limit)]
