"""Members in MongoDB. Every write that causes events carries them (outbox)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.membership.members import DuplicateMember, MemberIn, fold
from shared.contracts import Envelope, MemberApproved, new_event
from shared.http import NotFound
from shared.mongo import IndexSpec, duplicate_key, from_store
from shared.outbox import OutboxRelay, strip_outbox, with_events

MEMBERS = "members"
INDEXES = [
    IndexSpec(MEMBERS, [("email", 1)], unique=True, sparse=True),
    IndexSpec(MEMBERS, [("phone", 1)], unique=True, sparse=True),
    IndexSpec(MEMBERS, [("name_key", 1)]),  # nx-27017 refuses _id inside a compound index
]
PRODUCER = "membership"


class MemberStore:
    def __init__(self, db: AsyncDatabase, relay: OutboxRelay) -> None:
        self.members = db[MEMBERS]
        self.relay = relay

    async def create_active(self, member: MemberIn, *, by: str, correlation_id: str | None) -> dict[str, Any]:
        """Enter a member as active (staff entering an existing member) and welcome them."""
        now = datetime.now(timezone.utc)
        member_id = str(uuid.uuid4())
        doc = {
            "_id": member_id,
            **member.model_dump(mode="json", exclude_none=True),
            "name_key": fold(member.full_name),
            "status": "active",
            "created_at": now,
            "created_by": by,
            "updated_at": now,
        }
        event = new_event(MemberApproved(member_id=member_id, status="active", **member.model_dump(
            include={"full_name", "email", "phone", "language", "consents", "organization_ids", "date_of_birth"})),
            producer=PRODUCER, correlation_id=correlation_id)
        await self._insert(doc, event)
        return _public(doc)

    async def _insert(self, doc: dict[str, Any], *events: Envelope) -> None:
        try:
            await self.members.insert_one(with_events(doc, *events))
        except DuplicateKeyError as exc:
            field = duplicate_key(exc)
            existing = await self.members.find_one({field: doc.get(field)}, {"_id": 1}) if field in doc else None
            raise DuplicateMember(
                f"Another member already has this {field}",
                field=field,
                existing_member_id=existing["_id"] if existing else None,
            ) from None
        self.relay.notify()

    async def get(self, member_id: str) -> dict[str, Any]:
        doc = await self.members.find_one({"_id": member_id})
        if doc is None:
            raise NotFound(f"No member with id {member_id}")
        return _public(doc)

    async def list(self, limit: int, after: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"_id": {"$gt": after}} if after else {}
        return [_public(d) async for d in self.members.find(query).sort("_id", 1).limit(limit)]


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    out = from_store(strip_outbox(doc))
    out["id"] = out.pop("_id")
    out.pop("name_key", None)
    return {k: v for k, v in out.items() if v is not None}
