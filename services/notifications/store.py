"""Notifications data: projections (contacts, organisations, registrations),
preferences, suppressions, and the deliveries themselves.

A delivery's `_id` is its deterministic key (`event id:recipient:channel:template`,
or `campaign:<id>:recipient:channel:announcement`). Planning inserts deliveries; a
duplicate event inserts nothing new. Dispatchers claim due deliveries in batches
with a lease and a claim token, so two replicas never send the same one; a lease
left by a crashed replica expires and the delivery is claimed again (the provider
request id and the email Message-ID are the delivery key, so receivers can drop a
repeat).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.contracts import MemberContact
from shared.mongo import IndexSpec, epoch, from_store

CONTACTS = "contacts"
ORGANIZATIONS = "organizations"
REGISTRATIONS = "registrations"
PREFERENCES = "preferences"
SUPPRESSIONS = "suppressions"
DELIVERIES = "deliveries"
SMS_QUOTA = "sms_quota"
INDEXES = [
    IndexSpec(DELIVERIES, [("member_id", 1), ("created_at", -1)]),
    IndexSpec(DELIVERIES, [("recipient_id", 1), ("created_at", -1)]),
    IndexSpec(DELIVERIES, [("source_event_id", 1)]),
    IndexSpec(DELIVERIES, [("status", 1), ("created_at", -1)]),
    IndexSpec(DELIVERIES, [("status", 1), ("channel", 1), ("due", 1)]),
    IndexSpec(DELIVERIES, [("claim", 1)]),
    IndexSpec(DELIVERIES, [("campaign_id", 1), ("status", 1)]),
    IndexSpec(CONTACTS, [("organization_ids", 1)]),
    IndexSpec(CONTACTS, [("expertise", 1)]),
    IndexSpec(REGISTRATIONS, [("event_id", 1), ("status", 1)]),
    IndexSpec(REGISTRATIONS, [("member_id", 1)]),
    IndexSpec(SMS_QUOTA, [("phone", 1), ("at", 1)]),
]
DUPLICATE_KEY = 11000
LEASE_SECONDS = 120.0
# Fields of a delivery that hold personal data: gone when the person is erased.
PERSONAL = ("to", "to_name", "content", "attachments")


async def insert_new(collection, docs: list[dict[str, Any]]) -> list[str]:
    """Insert documents whose `_id` is a deterministic key; return the ids that were
    new (a duplicate means the work was planned before, so it is skipped)."""
    if not docs:
        return []
    try:
        await collection.insert_many(docs, ordered=False)
        return [d["_id"] for d in docs]
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        taken = {e["index"] for e in errors}
        return [d["_id"] for i, d in enumerate(docs) if i not in taken]


class ContactStore:
    """Members as notifications needs them, from member.* events, plus their preferences."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.contacts = db[CONTACTS]
        self.preferences = db[PREFERENCES]

    async def upsert(self, contact: MemberContact, event_time: datetime, extra: dict[str, Any] | None = None) -> None:
        """Keep the newest contact data: an older event arriving late changes nothing.

        One conditional upsert: when the stored copy is newer the filter misses, the
        upsert collides on `_id`, and the duplicate-key error means "keep what we have".
        """
        doc = contact.model_dump(mode="json", exclude={"member_id", "reviewer_emails", "expertise"})
        doc["consents"] = {
            "email": "yes" if contact.consents.email else "no",
            "sms": "yes" if contact.consents.sms else "no",
        }
        doc.update(extra or {})
        try:
            await self.contacts.update_one(
                {
                    "_id": contact.member_id,
                    "erased": {"$exists": False},
                    "$or": [{"as_of": {"$lte": event_time}}, {"as_of": {"$exists": False}}],
                },
                {"$set": {**doc, "as_of": event_time}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass

    async def get(self, member_id: str) -> dict[str, Any] | None:
        return await self.contacts.find_one({"_id": member_id})

    async def erase(self, member_id: str) -> None:
        personal = ("full_name", "email", "phone", "date_of_birth", "expertise", "organization_ids", "consents")
        await self.contacts.update_one(
            {"_id": member_id},
            {"$set": {"erased": "yes", "as_of": datetime.now(UTC)}, "$unset": {field: "" for field in personal}},
            upsert=True,
        )
        await self.preferences.delete_one({"_id": member_id})

    async def get_preferences(self, recipient_id: str) -> dict[str, Any] | None:
        doc = await self.preferences.find_one({"_id": recipient_id})
        return None if doc is None else {k: v for k, v in doc.items() if k in ("service", "announcement")}

    async def get_many_preferences(self, recipient_ids: list[str]) -> dict[str, dict[str, Any]]:
        cursor = self.preferences.find({"_id": {"$in": recipient_ids}})
        return {d["_id"]: d async for d in cursor}

    async def set_preferences(self, recipient_id: str, prefs: dict[str, dict[str, bool]]) -> None:
        # Booleans written by $set read back as 1/0 on the embedded store; bool() restores them.
        await self.preferences.update_one(
            {"_id": recipient_id},
            {
                "$set": {f"{cat}.{ch}": on for cat, channels in prefs.items() for ch, on in channels.items()}
                | {"updated_at": datetime.now(UTC)}
            },
            upsert=True,
        )


class DirectoryStore:
    """Organisations and registrations, kept from events to choose campaign segments."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.organizations = db[ORGANIZATIONS]
        self.registrations = db[REGISTRATIONS]

    async def upsert_organization(self, org_id: str, fields: dict[str, Any]) -> None:
        await self.organizations.update_one({"_id": org_id}, {"$set": fields}, upsert=True)

    async def subtree(self, root: str) -> list[str]:
        """The organisation and every organisation below it (the tree is small)."""
        children: dict[str, list[str]] = {}
        async for org in self.organizations.find({}, {"parent_id": 1}):
            if org.get("parent_id"):
                children.setdefault(org["parent_id"], []).append(org["_id"])
        found, todo = [], [root]
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.append(current)
            todo.extend(children.get(current, []))
        return found

    async def upsert_registration(self, registration_id: str, fields: dict[str, Any]) -> None:
        await self.registrations.update_one({"_id": registration_id}, {"$set": fields}, upsert=True)

    async def erase_member(self, member_id: str) -> None:
        await self.registrations.update_many(
            {"member_id": member_id}, {"$unset": {"full_name": "", "email": "", "phone": ""}}
        )


class SuppressionStore:
    """Addresses that bounced for good: nothing more is sent to them."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.suppressions = db[SUPPRESSIONS]

    async def add(self, address: str, channel: str, reason: str) -> None:
        await self.suppressions.update_one(
            {"_id": address.lower()},
            {"$set": {"channel": channel, "reason": reason, "at": datetime.now(UTC)}},
            upsert=True,
        )

    async def suppressed(self, addresses: list[str]) -> set[str]:
        if not addresses:
            return set()
        cursor = self.suppressions.find({"_id": {"$in": sorted({a.lower() for a in addresses})}}, {"_id": 1})
        return {d["_id"] async for d in cursor}

    async def remove(self, address: str) -> bool:
        return (await self.suppressions.delete_one({"_id": address.lower()})).deleted_count == 1

    async def list(self, limit: int) -> list[dict[str, Any]]:
        cursor = self.suppressions.find({}).sort("at", -1).limit(limit)
        return [{"address": d.pop("_id"), **from_store(d)} async for d in cursor]


class DeliveryStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.deliveries = db[DELIVERIES]
        self.quota = db[SMS_QUOTA]

    async def plan(self, docs: list[dict[str, Any]]) -> list[str]:
        """Insert new deliveries (queued or skipped); return the keys that were new."""
        now = datetime.now(UTC)
        for doc in docs:
            doc.setdefault("status", "queued")
            doc.setdefault("attempts", 0)
            doc.setdefault("due", epoch(now))
            doc.setdefault("created_at", now)
            doc["updated_at"] = now
        return await insert_new(self.deliveries, docs)

    async def claim_due(
        self, limit: int, lease_seconds: float = LEASE_SECONDS, channel: str | None = None
    ) -> list[dict[str, Any]]:
        """Take up to `limit` due deliveries for this worker: one query to find them and
        one conditional update to take them; only when another worker took some of them
        meanwhile, one more query for those this claim won."""
        now = epoch()
        query: dict[str, Any] = {"status": "queued", "due": {"$lte": now}}
        if channel:
            query["channel"] = channel
        due = await self.deliveries.find(query).sort("due", 1).limit(limit).to_list()
        if not due:
            return []
        token = uuid.uuid4().hex
        lease_until = now + lease_seconds
        result = await self.deliveries.update_many(
            {"_id": {"$in": [d["_id"] for d in due]}, "status": "queued"},
            {"$set": {"status": "sending", "claim": token, "lease_until": lease_until}, "$inc": {"attempts": 1}},
        )
        if result.modified_count == len(due):  # took them all (the usual case): no need to read them again
            for d in due:
                d.update(
                    status="sending", claim=token, lease_until=lease_until, attempts=int(d.get("attempts") or 0) + 1
                )
            return due
        return [d async for d in self.deliveries.find({"claim": token, "status": "sending"})]

    async def release_expired(self) -> int:
        """Deliveries whose worker died mid-send become due again."""
        result = await self.deliveries.update_many(
            {"status": "sending", "lease_until": {"$lt": epoch()}},
            {"$set": {"status": "queued", "due": epoch()}, "$unset": {"claim": ""}},
        )
        return result.modified_count

    async def settle(self, outcomes: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        """Write what happened to claimed deliveries: (delivery, update) pairs; each
        update applies only while this worker's claim still holds."""
        if not outcomes:
            return
        groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        for d, update in outcomes:
            groups.setdefault(repr(update), (update, []))[1].append(d)
        ops = []
        for update, docs in groups.values():
            if len(docs) == 1:
                ops.append(UpdateOne({"_id": docs[0]["_id"], "claim": docs[0]["claim"]}, update))
            else:  # the common case, e.g. a whole batch sent: one statement
                claims = sorted({d["claim"] for d in docs})
                ops.append(UpdateMany({"_id": {"$in": [d["_id"] for d in docs]}, "claim": {"$in": claims}}, update))
        await self.deliveries.bulk_write(ops, ordered=False)

    async def take_quotas(self, items: list[tuple[str, str]], *, per_day: int) -> dict[str, float]:
        """Count announcement SMS (phone, delivery key) against each number's allowance for
        24 hours. Returns the keys that must wait, with the epoch time they may go.

        Every counted SMS is a document; after counting, each number's documents are
        ranked by (time, key) and any of ours beyond the allowance are taken back. All
        replicas rank alike, so racing replicas never let more than the allowance through.
        """
        if not items:
            return {}
        now = epoch()
        window = now - 86400
        phones = sorted({phone for phone, _ in items})
        counted: dict[str, list[tuple[float, str]]] = {p: [] for p in phones}
        async for d in self.quota.find({"phone": {"$in": phones}, "at": {"$gt": window}}):
            counted[d["phone"]].append((d["at"], d["_id"]))
        held: dict[str, float] = {}
        new: list[dict[str, Any]] = []
        for phone, key in items:
            qid = f"{phone}:{key}"
            if any(existing == qid for _, existing in counted[phone]):
                continue  # counted before: a retry of the same delivery
            if len(counted[phone]) >= per_day:
                held[key] = min(at for at, _ in counted[phone]) + 86400
                continue
            counted[phone].append((now, qid))
            new.append({"_id": qid, "phone": phone, "at": now})
        if not new:
            return held
        await insert_new(self.quota, new)
        ours = {d["_id"] for d in new}
        touched = sorted({d["phone"] for d in new})
        ranked: dict[str, list[tuple[float, str]]] = {p: [] for p in touched}
        async for d in self.quota.find({"phone": {"$in": touched}, "at": {"$gt": window}}):
            ranked[d["phone"]].append((d["at"], d["_id"]))
        too_many = []
        for entries in ranked.values():
            entries.sort()
            for _at, qid in entries[per_day:]:
                if qid in ours:
                    too_many.append(qid)
                    held[qid.split(":", 1)[1]] = entries[0][0] + 86400
        if too_many:
            await self.quota.delete_many({"_id": {"$in": too_many}})
        return held

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self.deliveries.find_one({"_id": key})

    async def mark_receipt(self, key: str, status: str, error: str | None) -> bool:
        update: dict[str, Any] = {"receipt": status, "updated_at": datetime.now(UTC)}
        if status == "delivered":
            update["status"] = "delivered"
        else:
            update.update(status="undelivered", last_error=error or "reported undelivered by the provider")
        result = await self.deliveries.update_one(
            {"_id": key, "status": {"$in": ["sent", "delivered", "undelivered"]}}, {"$set": update}
        )
        return result.matched_count == 1

    async def replay(self, key: str) -> bool:
        """A dead-lettered (or failed) delivery goes back to the queue, attempts reset."""
        result = await self.deliveries.update_one(
            {"_id": key, "status": {"$in": ["dead", "failed"]}, "content": {"$exists": True}},
            {
                "$set": {"status": "queued", "due": epoch(), "attempts": 0, "updated_at": datetime.now(UTC)},
                "$unset": {"claim": ""},
            },
        )
        return result.modified_count == 1

    async def erase_member(self, member_id: str) -> None:
        await self.deliveries.update_many(
            {"member_id": member_id}, {"$unset": {field: "" for field in PERSONAL}, "$set": {"erased": "yes"}}
        )
        # Anything not yet sent to them never will be.
        await self.deliveries.update_many(
            {"member_id": member_id, "status": {"$in": ["queued", "paused"]}},
            {"$set": {"status": "skipped", "reason": "erased"}},
        )

    async def list(
        self,
        *,
        member_id: str | None = None,
        recipient_id: str | None = None,
        event_id: str | None = None,
        campaign_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if member_id:
            query["member_id"] = member_id
        if recipient_id:
            query["recipient_id"] = recipient_id
        if event_id:
            query["source_event_id"] = event_id
        if campaign_id:
            query["campaign_id"] = campaign_id
        if status:
            query["status"] = status
        cursor = (
            self.deliveries.find(query, {"lease_until": 0, "claim": 0, "to": 0, "attachments": 0})
            .sort("created_at", -1)
            .limit(limit)
        )
        return [{"key": d.pop("_id"), **from_store(d)} async for d in cursor]
