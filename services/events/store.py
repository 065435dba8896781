"""Events data in MongoDB: events (with their seat counters), registrations, and the
local projections of organisations and members kept from membership's events.

The seat ledger is the heart: every seat moves with ONE atomic conditional update of
the event document (`find_one_and_update` on counters), never a read-then-write.
Counters on the event: `seats_free` (capacity minus confirmed), `confirmed`, `waiting`
(people on the waiting list) and `waitlist_seq` (the order people joined it in).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.contracts import MemberContact, OrganizationChanged
from shared.mongo import IndexSpec
from shared.scheduler import due_item_indexes

EVENTS = "events"
REGISTRATIONS = "registrations"
MEMBERS = "members"  # projection kept from membership's events, never a call to membership
ORGANIZATIONS = "organizations"  # likewise
REMINDERS = "reminders"  # due items (shared.scheduler)
INDEXES = [
    IndexSpec(EVENTS, [("first_start", 1)]),
    IndexSpec(EVENTS, [("organizer_id", 1)]),
    IndexSpec(REGISTRATIONS, [("event_id", 1), ("status", 1), ("wait_seq", 1)], name="event_status_seq"),
    IndexSpec(REGISTRATIONS, [("holder_member", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("holder_email", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("holder_phone", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("idempotency", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("ticket_code", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("certificate_code", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("member_id", 1)]),
    IndexSpec(MEMBERS, [("status", 1)]),
    IndexSpec(ORGANIZATIONS, [("code_key", 1)]),
    IndexSpec(ORGANIZATIONS, [("parent_id", 1)]),
    *due_item_indexes(REMINDERS),
]
OUTBOX = [EVENTS, REGISTRATIONS, REMINDERS]
COUNTERS = {"seats_free": 1, "confirmed": 1, "waiting": 1, "waitlist_seq": 1, "capacity": 1, "status": 1}


class SeatLedger:
    """Seats and the waiting list, each move one atomic conditional update."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.events = db[EVENTS]

    async def take_seat(
        self, event_id: str, count: int = 1, *, exactly: int | None = None, batch: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """`count` seats for newcomers, only while nobody is waiting (the queue is fair): all
        of them or none. `exactly`: only if that many are free (compare-and-set). `batch`
        records, in the same write, who the seats are for (see `settle`)."""
        free: Any = exactly if exactly is not None else {"$gte": count}
        update: dict[str, Any] = {"$inc": {"seats_free": -count, "confirmed": count}}
        if batch:
            update["$set"] = {**_intent(batch), f"pending.{batch['id']}.seats": count}
        return await self.events.find_one_and_update(
            {"_id": event_id, "status": "published", "seats_free": free, "waiting": 0},
            update,
            projection=COUNTERS,
            return_document=ReturnDocument.AFTER,
        )

    async def join_waitlist(
        self, event_id: str, count: int = 1, batch: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Places at the end of the waiting list; `waiting` after it is the last newcomer's position."""
        update: dict[str, Any] = {"$inc": {"waiting": count, "waitlist_seq": count}}
        if batch:
            update["$set"] = {**_intent(batch), f"pending.{batch['id']}.places": count}
        return await self.events.find_one_and_update(
            {"_id": event_id, "status": "published"}, update, projection=COUNTERS, return_document=ReturnDocument.AFTER
        )

    async def settle(self, event_id: str, batch_id: str, *, lost_seats: int = 0, lost_places: int = 0) -> bool:
        """The batch's registrations are written (or known lost): forget its intent and give back
        what was not used, in one write that only one caller can make."""
        update: dict[str, Any] = {"$unset": {f"pending.{batch_id}": ""}}
        inc = {
            k: v for k, v in (("seats_free", lost_seats), ("confirmed", -lost_seats), ("waiting", -lost_places)) if v
        }
        if inc:
            update["$inc"] = inc
        result = await self.events.update_one({"_id": event_id, f"pending.{batch_id}": {"$exists": True}}, update)
        return result.modified_count == 1

    async def stale_batches(self, older_than: float) -> list[tuple[str, str, dict[str, Any]]]:
        """Intents left by batches that never settled (their process died): (event, batch, intent)."""
        found = []
        async for doc in self.events.find({"status": {"$in": ["published", "registration_closed"]}}, {"pending": 1}):
            for batch_id, intent in (doc.get("pending") or {}).items():
                if isinstance(intent, dict) and float(intent.get("at") or 0) < older_than:
                    found.append((doc["_id"], batch_id, intent))
        return found

    async def seat_for_waitlisted(self, event_id: str) -> dict[str, Any] | None:
        """Move a free seat to the waiting list's head (who exactly is settled next)."""
        return await self.events.find_one_and_update(
            {
                "_id": event_id,
                "status": {"$in": ["published", "registration_closed"]},
                "seats_free": {"$gt": 0},
                "waiting": {"$gt": 0},
            },
            {"$inc": {"seats_free": -1, "confirmed": 1, "waiting": -1}},
            projection=COUNTERS,
            return_document=ReturnDocument.AFTER,
        )

    async def undo_seat_for_waitlisted(self, event_id: str) -> None:
        await self.events.update_one({"_id": event_id}, {"$inc": {"seats_free": 1, "confirmed": -1, "waiting": 1}})

    async def give_back_seat(self, event_id: str, count: int = 1) -> None:
        await self.events.update_one({"_id": event_id}, {"$inc": {"seats_free": count, "confirmed": -count}})

    async def leave_waitlist(self, event_id: str, count: int = 1) -> None:
        await self.events.update_one({"_id": event_id}, {"$inc": {"waiting": -count}})

    async def set_capacity(self, event_id: str, old: int, new: int) -> dict[str, Any] | None:
        """Change capacity unless it would fall below the seats already confirmed."""
        delta = new - old
        condition: dict[str, Any] = {"_id": event_id, "capacity": old}
        if delta < 0:
            condition["seats_free"] = {"$gte": -delta}
        return await self.events.find_one_and_update(
            condition,
            {"$set": {"capacity": new}, "$inc": {"seats_free": delta}},
            projection=COUNTERS,
            return_document=ReturnDocument.AFTER,
        )

    async def counters(self, event_id: str) -> dict[str, Any] | None:
        return await self.events.find_one({"_id": event_id}, COUNTERS)


def _intent(batch: dict[str, Any]) -> dict[str, Any]:
    return {f"pending.{batch['id']}.at": batch["at"], f"pending.{batch['id']}.ids": batch["ids"]}


class MemberProjection:
    """Who is a member, and of which organisations: for members-only events."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.members = db[MEMBERS]

    async def apply(self, member: MemberContact, event_time: datetime) -> bool:
        """Newest wins: a late, older event matches nothing and collides on _id. True if applied."""
        try:
            result = await self.members.update_one(
                {"_id": member.member_id, "$or": [{"as_of": {"$lte": event_time}}, {"as_of": {"$exists": False}}]},
                {
                    "$set": {
                        "status": member.status,
                        "organization_ids": member.organization_ids,
                        "full_name": member.full_name,
                        "email": member.email,
                        "phone": member.phone,
                        "language": member.language,
                        "as_of": event_time,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return result.matched_count == 1 or result.upserted_id is not None

    async def erase(self, member_id: str) -> None:
        await self.members.update_one(
            {"_id": member_id},
            {
                "$set": {"status": "erased", "as_of": datetime.now(UTC)},
                "$unset": {"full_name": "", "email": "", "phone": ""},
            },
            upsert=True,
        )

    async def get(self, member_id: str) -> dict[str, Any] | None:
        return await self.members.find_one({"_id": member_id})


class OrganizationProjection:
    """The organisation tree as membership announces it: organisers and managers' subtrees."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.orgs = db[ORGANIZATIONS]

    async def apply(self, org: OrganizationChanged, event_time: datetime) -> None:
        try:
            await self.orgs.update_one(
                {"_id": org.organization_id, "$or": [{"as_of": {"$lte": event_time}}, {"as_of": {"$exists": False}}]},
                {
                    "$set": {
                        "code": org.code,
                        "code_key": org.code.strip().lower(),
                        "name": org.name,
                        "kind": org.kind,
                        "parent_id": org.parent_id,
                        "status": org.status,
                        "as_of": event_time,
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:
            pass

    async def resolve(self, id_or_code: str) -> dict[str, Any] | None:
        """An organisation by id, or else by code (any case)."""
        found = await self.orgs.find_one({"_id": id_or_code})
        return found or await self.orgs.find_one({"code_key": id_or_code.strip().lower()})

    async def names(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        return {d["_id"]: d async for d in self.orgs.find({"_id": {"$in": list(set(ids))}}, {"code": 1, "name": 1})}

    async def ancestors(self, org_id: str, limit: int = 12) -> list[str]:
        """The organisation and those above it, nearest first."""
        chain, current = [], org_id
        while current and current not in chain and len(chain) < limit:
            chain.append(current)
            doc = await self.orgs.find_one({"_id": current}, {"parent_id": 1})
            current = doc.get("parent_id") if doc else None
        return chain

    async def subtree(self, root: str, limit: int = 5000) -> list[str]:
        """The organisation and every one below it."""
        seen, frontier = [root], [root]
        while frontier and len(seen) < limit:
            children = [d["_id"] async for d in self.orgs.find({"parent_id": {"$in": frontier}}, {"_id": 1})]
            frontier = [c for c in children if c not in seen]
            seen.extend(frontier)
        return seen
