"""Notifications data: the deliveries, the announcement-SMS quota records and the
suppressed addresses. Queries and writes only (the projections of other services'
data are in projections.py, campaigns in campaign_store.py).

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
from typing import Any, cast

from pymongo import UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.projections import CONTACTS, REGISTRATIONS
from services.notifications.records import DeliveryDoc, QuotaDoc
from shared.batching import GroupWrite
from shared.clock import epoch, now_utc
from shared.mongo import IndexSpec, from_store, insert_groups_unless_taken, insert_unless_taken

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
LEASE_SECONDS = 120.0
# Fields of a delivery that hold personal data: gone when the person is erased.
PERSONAL = ("to", "to_name", "content", "attachments", "fallback")


async def insert_new(collection, docs: list[dict[str, Any]]) -> list[str]:
    """Insert documents whose `_id` is a deterministic key; return the ids that were
    new (a duplicate means the work was planned before, so it is skipped)."""
    taken = await insert_unless_taken(collection, docs)
    return [d["_id"] for i, d in enumerate(docs) if i not in taken]


class SuppressionStore:
    """Addresses that bounced for good: nothing more is sent to them."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.suppressions = db[SUPPRESSIONS]

    async def add(self, address: str, channel: str, reason: str) -> None:
        await self.suppressions.update_one(
            {"_id": address.lower()},
            {"$set": {"channel": channel, "reason": reason, "at": now_utc()}},
            upsert=True,
        )

    async def suppressed(self, addresses: list[str]) -> set[str]:
        if not addresses:
            return set()
        cursor = self.suppressions.find({"_id": {"$in": sorted({a.lower() for a in addresses})}}, {"_id": 1})
        return {d["_id"] async for d in cursor}

    async def forget(self, addresses: list[str]) -> None:
        if addresses:
            await self.suppressions.delete_many({"_id": {"$in": sorted({a.lower() for a in addresses})}})

    async def remove(self, address: str) -> bool:
        return (await self.suppressions.delete_one({"_id": address.lower()})).deleted_count == 1

    async def list(self, limit: int) -> list[dict[str, Any]]:
        cursor = self.suppressions.find({}).sort("at", -1).limit(limit)
        return [{"address": d.pop("_id"), **from_store(d)} async for d in cursor]


class DeliveryStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.deliveries = db[DELIVERIES]
        self.quotas = QuotaStore(db)
        self._inserts: GroupWrite[list[dict[str, Any]], list[str]] = GroupWrite(self._insert_groups)

    async def plan(self, docs: list[dict[str, Any]]) -> list[str]:
        """Insert new deliveries (queued or skipped); return the keys that were new. The
        plans of one turn of the event loop (a consumer's concurrent events) go to the
        store as one insert (shared/batching.py)."""
        if not docs:
            return []
        now = now_utc()
        for doc in docs:
            doc.setdefault("status", "queued")
            doc.setdefault("attempts", 0)
            doc.setdefault("due", epoch(now))
            doc.setdefault("created_at", now)
            doc["updated_at"] = now
        return await self._inserts.submit(docs)

    async def _insert_groups(self, groups: list[list[dict[str, Any]]]) -> list[list[str] | Exception]:
        outcomes = await insert_groups_unless_taken(self.deliveries, groups)
        return [
            outcome if isinstance(outcome, Exception) else [d["_id"] for i, d in enumerate(docs) if i not in outcome]
            for docs, outcome in zip(groups, outcomes, strict=True)
        ]

    async def claim_due(
        self, limit: int, lease_seconds: float = LEASE_SECONDS, channel: str | None = None
    ) -> list[DeliveryDoc]:
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
            return cast(list[DeliveryDoc], due)
        return await self.claimed(token)

    async def claimed(self, token: str) -> list[DeliveryDoc]:
        """The deliveries a claim token holds (still being sent)."""
        return [cast(DeliveryDoc, d) async for d in self.deliveries.find({"claim": token, "status": "sending"})]

    async def hand_back(self, token: str) -> None:
        """Claimed deliveries their claimant will not send go back to the queue."""
        await self.deliveries.update_many(
            {"claim": token, "status": "sending"},
            {"$set": {"status": "queued", "due": epoch()}, "$unset": {"claim": ""}},
        )

    async def release_expired(self) -> int:
        """Deliveries whose worker died mid-send become due again."""
        result = await self.deliveries.update_many(
            {"status": "sending", "lease_until": {"$lt": epoch()}},
            {"$set": {"status": "queued", "due": epoch()}, "$unset": {"claim": ""}},
        )
        return result.modified_count

    async def next_due(self) -> float | None:
        """When the earliest queued delivery falls due (epoch seconds), or None if none is queued."""
        first = await self.deliveries.find_one({"status": "queued"}, {"due": 1}, sort=[("due", 1)])
        return None if first is None else float(first.get("due") or 0.0)

    async def settle(self, outcomes: list[tuple[DeliveryDoc, dict[str, Any]]]) -> None:
        """Write what happened to claimed deliveries: (delivery, update) pairs; each
        update applies only while this worker's claim still holds."""
        if not outcomes:
            return
        groups: dict[str, tuple[dict[str, Any], list[DeliveryDoc]]] = {}
        for d, update in outcomes:
            groups.setdefault(repr(update), (update, []))[1].append(d)
        ops: list[UpdateOne | UpdateMany] = []
        for update, docs in groups.values():
            if len(docs) == 1:
                ops.append(UpdateOne({"_id": docs[0]["_id"], "claim": docs[0]["claim"]}, update))
            else:  # the common case, e.g. a whole batch sent: one statement
                claims = sorted({d["claim"] for d in docs})
                ops.append(UpdateMany({"_id": {"$in": [d["_id"] for d in docs]}, "claim": {"$in": claims}}, update))
        await self.deliveries.bulk_write(ops, ordered=False)

    async def take_quotas(self, items: list[tuple[str, str]], *, per_day: int) -> dict[str, float]:
        return await self.quotas.take(items, per_day=per_day)

    async def get(self, key: str) -> DeliveryDoc | None:
        return cast(DeliveryDoc | None, await self.deliveries.find_one({"_id": key}))

    async def mark_receipt(self, key: str, status: str, error: str | None) -> bool:
        update: dict[str, Any] = {"receipt": status, "updated_at": now_utc()}
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
                "$set": {"status": "queued", "due": epoch(), "attempts": 0, "updated_at": now_utc()},
                "$unset": {"claim": ""},
            },
        )
        return result.modified_count == 1

    async def addresses_of(self, member_id: str) -> list[str]:
        cursor = self.deliveries.find({"member_id": member_id, "to": {"$exists": True}}, {"to": 1})
        return [d["to"] async for d in cursor if d.get("to")]

    async def erase_member(self, member_id: str) -> None:
        # Anything not yet sent to them never will be; then their data goes from every record.
        # In this order, a delivery a racing planner inserts between the two writes is still
        # queued when it loses its data, so the dispatcher's erased check skips it (in the
        # other order it stayed skipped with its data).
        await self.deliveries.update_many(
            {"member_id": member_id, "status": {"$in": ["queued", "paused"]}},
            {"$set": {"status": "skipped", "reason": "erased"}},
        )
        await self.deliveries.update_many(
            {"member_id": member_id}, {"$unset": {field: "" for field in PERSONAL}, "$set": {"erased": "yes"}}
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


class QuotaStore:
    """Announcement SMS counted per phone number over the last 24 hours."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.records = db[SMS_QUOTA]

    async def take(self, items: list[tuple[str, str]], *, per_day: int) -> dict[str, float]:
        """Count announcement SMS (phone, delivery key) against each number's allowance for
        24 hours. Returns the keys that must wait, with the epoch time they may go.

        Every counted SMS is a document; after counting, each number's documents are
        ranked by (time, key) and any of ours beyond the allowance are taken back. All
        replicas rank alike, so racing replicas never let more than the allowance through.
        """
        if not items:
            return {}
        now = epoch()
        counted = await self._counted(sorted({phone for phone, _ in items}), now)
        held: dict[str, float] = {}
        new: list[QuotaDoc] = []
        for phone, key in items:
            qid = f"{phone}:{key}"
            if any(existing == qid for _, existing in counted[phone]):
                continue  # counted before: a retry of the same delivery
            if len(counted[phone]) >= per_day:
                held[key] = min(at for at, _ in counted[phone]) + 86400
                continue
            counted[phone].append((now, qid))
            new.append({"_id": qid, "phone": phone, "at": now})
        if new:
            await insert_new(self.records, cast(list[dict[str, Any]], new))
            held.update(await self._take_back_beyond(new, per_day, now))
        return held

    async def _counted(self, phones: list[str], now: float) -> dict[str, list[tuple[float, str]]]:
        """Each number's counted SMS of the last 24 hours, as (time, record id)."""
        counted: dict[str, list[tuple[float, str]]] = {p: [] for p in phones}
        async for d in self.records.find({"phone": {"$in": phones}, "at": {"$gt": now - 86400}}):
            counted[d["phone"]].append((d["at"], d["_id"]))
        return counted

    async def _take_back_beyond(self, new: list[QuotaDoc], per_day: int, now: float) -> dict[str, float]:
        """Rank each touched number's records by (time, id); ours beyond the allowance
        are taken back and wait until the oldest counted one is a day old."""
        ours = {d["_id"] for d in new}
        ranked = await self._counted(sorted({d["phone"] for d in new}), now)
        held: dict[str, float] = {}
        too_many = []
        for entries in ranked.values():
            entries.sort()
            for _at, qid in entries[per_day:]:
                if qid in ours:
                    too_many.append(qid)
                    held[qid.split(":", 1)[1]] = entries[0][0] + 86400
        if too_many:
            await self.records.delete_many({"_id": {"$in": too_many}})
        return held

    async def forget(self, phones: list[str]) -> None:
        """An erased person's numbers leave no trace in the counts."""
        if phones:
            await self.records.delete_many({"phone": {"$in": phones}})
