"""The webhooks service's store: queries and writes only, on typed documents.

Collections: `endpoints` (an outbox collection: disabling one and announcing it is
one write), `keys` (each partner key's scopes and organisation, learnt from its own
signed calls), `organizations` and `members` (projections for reach), `deliveries` (one
per event and endpoint, leased; its tries kept in it, in a map by try number — not an
array: see the store-shapes tests — so a try's result and its log are one write).
Machine times compared in ranges (due, lease, failing since) are epoch numbers; times
people read are datetimes, read back through `from_store` (shared/clock.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.webhooks.announcements import changed_notice
from shared.clock import now_utc
from shared.contracts import Envelope
from shared.mongo import IndexSpec, from_store, insert_unless_taken
from shared.outbox import push_events, strip_outbox, with_events
from shared.projection import Applied, NewestWins

INDEXES = [
    IndexSpec("endpoints", [("key_prefix", 1), ("created_epoch", 1)]),
    IndexSpec("endpoints", [("state", 1)]),
    IndexSpec("deliveries", [("state", 1), ("due", 1)]),
    IndexSpec("deliveries", [("endpoint_id", 1), ("created_epoch", -1)]),
    IndexSpec("deliveries", [("member_id", 1)], sparse=True),
    IndexSpec("deliveries", [("created_epoch", 1)]),
]
OUTBOX = ["endpoints"]
LOG_KEPT = 20  # tries kept per delivery (12 in a full schedule, more after redeliveries)


class EndpointDoc(TypedDict):
    _id: str
    key_prefix: str
    url: str
    event_types: list[str]
    description: str | None
    contact_email: str
    language: str
    state: str  # active | paused | disabled
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: float  # epoch of the first failed try since the last success; 0: not failing
    secret_salt: str
    previous_secret_salt: str | None
    previous_secret_until: float  # epoch; 0: no previous secret
    created_at: datetime
    created_epoch: float
    created_by: str
    updated_at: datetime


class KeyDoc(TypedDict):
    _id: str  # the key's visible prefix
    scopes: list[str]
    organization_id: str | None
    revoked: int  # 1 once the gateway said it was revoked
    seen_at: datetime


class DeliveryDoc(TypedDict):
    _id: str
    endpoint_id: str
    key_prefix: str
    event_id: str
    event_type: str
    msg_id: str
    body: str  # exactly what is signed and sent
    member_id: NotRequired[str]  # whose personal data the body holds (erasure finds it)
    state: str  # pending | delivered | failed | cancelled
    trigger: str  # what the next try is: event, retry, redelivery, test
    due: float
    lease_until: float
    lease_owner: str
    attempts: int
    first_try_at: float  # epoch of the first try of the current schedule; 0 before it
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    created_epoch: float
    finished_at: datetime | None
    log: dict[str, AttemptDoc]  # try number → the try


class AttemptDoc(TypedDict):
    """One try, kept in its delivery's `log` under its number."""

    attempt: int
    at: datetime
    at_epoch: float
    trigger: str
    outcome: str  # delivered | gone | failed | refused | timeout | unreachable
    status_code: int | None
    latency_ms: float | None
    response_excerpt: str | None
    error: str | None


def _endpoint(doc: dict[str, Any]) -> EndpointDoc:
    return from_store(strip_outbox(doc))  # type: ignore[return-value]


def _due(busy_endpoints: Sequence[str], now: float) -> dict[str, Any]:
    """Due and not leased. Not sorted: every match is due and order is not promised, and a
    sort makes the embedded store read every pending delivery (4x slower at 2,000)."""
    query: dict[str, Any] = {"state": "pending", "due": {"$lte": now}, "lease_until": {"$lt": now}}
    if busy_endpoints:
        query["endpoint_id"] = {"$nin": list(busy_endpoints)}
    return query


class EndpointStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.endpoints = db["endpoints"]
        self.keys = db["keys"]
        self.writes = 0  # endpoint writes by this process: what remembers endpoints reads again (listeners.py)

    # Every write that changes what fan-out chooses (registering, changing, pausing,
    # disabling; not the dispatcher's failing/healthy marks) carries
    # `webhook.endpoint_changed` in the same write (the outbox), so no caller can
    # forget to tell the other replicas, and no crash
    # between the write and the publish can lose the notice: a registration another
    # replica did not hear of would miss events for the partner. A removal leaves no
    # document to carry it: its caller publishes it (subscribing.py).

    async def add(self, doc: EndpointDoc) -> None:
        try:
            await self.endpoints.insert_one(with_events(doc, changed_notice(doc["_id"], "registered")))
        finally:
            self.writes += 1  # after the write: a read begun before it is not trusted (listeners.py)

    async def get(self, endpoint_id: str) -> EndpointDoc | None:
        found = await self.endpoints.find_one({"_id": endpoint_id})
        return _endpoint(found) if found else None

    async def page(self, key_prefix: str | None, state: str | None, limit: int, offset: int) -> list[EndpointDoc]:
        query: dict[str, Any] = {}
        if key_prefix is not None:
            query["key_prefix"] = key_prefix
        if state is not None:
            query["state"] = state
        found = self.endpoints.find(query).sort("created_epoch", 1).skip(offset).limit(limit)
        return [_endpoint(d) async for d in found]

    async def count_of(self, key_prefix: str) -> int:
        return await self.endpoints.count_documents({"key_prefix": key_prefix})

    async def listening(self, event_type: str) -> list[EndpointDoc]:
        """Active endpoints subscribed to `event_type` (`$in`: see the store-shapes tests)."""
        found = self.endpoints.find({"state": "active", "event_types": {"$in": [event_type]}})
        return [_endpoint(d) async for d in found]

    async def active(self) -> list[EndpointDoc]:
        """Every active endpoint (what fan-out keeps in memory: listeners.py)."""
        return [_endpoint(d) async for d in self.endpoints.find({"state": "active"})]

    async def change(self, endpoint_id: str, fields: dict[str, Any], *events: Envelope) -> EndpointDoc | None:
        return await self.change_if({"_id": endpoint_id}, fields, *events)

    async def change_if(
        self, condition: dict[str, Any], fields: dict[str, Any], *events: Envelope
    ) -> EndpointDoc | None:
        """Change the endpoint (`condition` names it by `_id`) only if `condition` still holds
        (one replica wins); None otherwise."""
        notice = changed_notice(condition["_id"], "changed")
        update = push_events({"$set": {**fields, "updated_at": now_utc()}}, *events, notice)
        try:
            found = await self.endpoints.find_one_and_update(condition, update, return_document=ReturnDocument.AFTER)
        finally:
            self.writes += 1
        return _endpoint(found) if found else None

    async def remove(self, endpoint_id: str) -> bool:
        """Delete the endpoint; the caller tells the other replicas (no document is left to carry it)."""
        try:
            return (await self.endpoints.delete_one({"_id": endpoint_id})).deleted_count == 1
        finally:
            self.writes += 1

    async def mark_failing(self, endpoint_id: str, since: float) -> None:
        await self.endpoints.update_one({"_id": endpoint_id, "failing_since": 0}, {"$set": {"failing_since": since}})

    async def mark_healthy(self, endpoint_id: str) -> None:
        await self.endpoints.update_one(
            {"_id": endpoint_id, "failing_since": {"$gt": 0}}, {"$set": {"failing_since": 0}}
        )

    async def of_key(self, key_prefix: str) -> list[str]:
        return [d["_id"] async for d in self.endpoints.find({"key_prefix": key_prefix}, {"_id": 1})]

    # --- keys -------------------------------------------------------------------------

    async def grants(self, prefixes: Sequence[str]) -> dict[str, KeyDoc]:
        found = self.keys.find({"_id": {"$in": sorted(set(prefixes))}, "revoked": 0})
        return {d["_id"]: d async for d in found}

    async def learn_key(self, prefix: str, scopes: Sequence[str], organization_id: str | None) -> None:
        """Keep what the key's own signed call said (a revoked key is never revived)."""
        grant = {"scopes": sorted(scopes), "organization_id": organization_id, "seen_at": now_utc()}
        result = await self.keys.update_one({"_id": prefix, "revoked": 0}, {"$set": grant})
        if result.matched_count == 0 and await self.keys.find_one({"_id": prefix}, {"_id": 1}) is None:
            doc: KeyDoc = {"_id": prefix, "revoked": 0, **grant}  # type: ignore[typeddict-item]
            try:
                await self.keys.insert_one(dict(doc))
            except DuplicateKeyError:
                pass  # another replica learnt it at the same moment

    async def key_revoked(self, prefix: str) -> bool:
        return await self.keys.find_one({"_id": prefix, "revoked": 1}, {"_id": 1}) is not None

    async def revoke_key(self, prefix: str) -> None:
        await self.keys.update_one(
            {"_id": prefix}, {"$set": {"revoked": 1, "scopes": [], "seen_at": now_utc()}}, upsert=True
        )


class ProjectionStore:
    """Organisations (child → parent) and members' organisations, for reach. Newest wins
    (shared/projection.py): a late, older event changes nothing, a copy handled twice
    writes the same values again."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.organizations = db["organizations"]
        self.members = db["members"]
        self._organizations = NewestWins(self.organizations)
        self._members = NewestWins(self.members)

    async def parents(self) -> dict[str, str | None]:
        return {d["_id"]: d.get("parent_id") async for d in self.organizations.find({}, {"parent_id": 1})}

    async def keep_organization(
        self, organization_id: str, parent_id: str | None, status: str, at: datetime
    ) -> Applied:
        return await self._organizations.apply(
            organization_id, {"$set": {"parent_id": parent_id, "status": status}}, at
        )

    async def keep_member(self, member_id: str, organization_ids: Sequence[str], at: datetime) -> Applied:
        return await self._members.apply(member_id, {"$set": {"organization_ids": list(organization_ids)}}, at)

    async def member_organizations(self, member_id: str) -> list[str]:
        doc = await self.members.find_one({"_id": member_id})
        return list(doc.get("organization_ids") or []) if doc else []

    async def forget_member(self, member_id: str) -> None:
        """The member was erased: nothing of them is kept here."""
        await self.members.delete_one({"_id": member_id})


class DeliveryStore:
    def __init__(self, db: AsyncDatabase, lease_seconds: float) -> None:
        self.deliveries = db["deliveries"]
        self.lease_seconds = lease_seconds

    async def add(self, docs: Sequence[DeliveryDoc]) -> int:
        """Store new deliveries; ones already there (the same event twice) are left alone."""
        return len(docs) - len(await insert_unless_taken(self.deliveries, docs))

    async def get(self, delivery_id: str) -> DeliveryDoc | None:
        doc = await self.deliveries.find_one({"_id": delivery_id})
        return from_store(doc) if doc else None  # type: ignore[return-value]

    async def due(self, busy_endpoints: Sequence[str], limit: int, now: float) -> list[tuple[str, str]]:
        """(delivery id, endpoint id) of deliveries due and not leased."""
        found = self.deliveries.find(_due(busy_endpoints, now), {"endpoint_id": 1}).limit(limit)
        return [(d["_id"], d["endpoint_id"]) async for d in found]

    async def claim(self, busy_endpoints: Sequence[str], now: float) -> DeliveryDoc | None:
        """Lease a due delivery, skipping endpoints at their limit here (one call)."""
        found = await self.deliveries.find_one_and_update(
            _due(busy_endpoints, now),
            {"$set": {"lease_until": now + self.lease_seconds, "lease_owner": uuid.uuid4().hex}},
            return_document=ReturnDocument.AFTER,
        )
        return from_store(found) if found else None  # type: ignore[return-value]

    async def lease(self, delivery_ids: Sequence[str], now: float) -> list[DeliveryDoc]:
        """Lease those still free, in one write (each document's update is atomic, so two
        replicas never lease the same one); returns the ones leased here."""
        owner = uuid.uuid4().hex
        await self.deliveries.update_many(
            {"_id": {"$in": list(delivery_ids)}, "state": "pending", "lease_until": {"$lt": now}},
            {"$set": {"lease_until": now + self.lease_seconds, "lease_owner": owner}},
        )
        found = self.deliveries.find({"_id": {"$in": list(delivery_ids)}, "lease_owner": owner}).sort("due", 1)
        return [from_store(d) async for d in found]  # type: ignore[misc]

    async def settle(self, delivery: DeliveryDoc, fields: dict[str, Any], attempt: AttemptDoc | None = None) -> bool:
        """Record a try (or why none was made) in one write; only the lease holder can
        (False if the lease was lost)."""
        update: dict[str, Any] = {"$set": {**fields, "lease_until": 0.0}}
        if attempt is not None:
            number = attempt["attempt"]
            update["$set"][f"log.{number}"] = dict(attempt)
            update["$inc"] = {"attempts": 1}
            if number > LOG_KEPT:
                update["$unset"] = {f"log.{number - LOG_KEPT}": ""}
        result = await self.deliveries.update_one(
            {"_id": delivery["_id"], "state": "pending", "lease_owner": delivery["lease_owner"]}, update
        )
        return result.modified_count == 1

    async def cancel_pending(self, endpoint_id: str, reason: str) -> int:
        result = await self.deliveries.update_many(
            {"endpoint_id": endpoint_id, "state": "pending"},
            {"$set": {"state": "cancelled", "last_error": reason, "finished_at": now_utc()}},
        )
        return result.modified_count

    async def again(self, delivery_id: str, endpoint_id: str, now: float) -> DeliveryDoc | None:
        """Send a delivery again now with a fresh schedule, unless a try is under way."""
        found = await self.deliveries.find_one_and_update(
            {"_id": delivery_id, "endpoint_id": endpoint_id, "lease_until": {"$lt": now}},
            {
                "$set": {
                    "state": "pending",
                    "trigger": "redelivery",
                    "due": now,
                    "first_try_at": 0.0,
                    "finished_at": None,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return from_store(found) if found else None  # type: ignore[return-value]

    async def page(self, endpoint_id: str, state: str | None, limit: int, offset: int) -> list[DeliveryDoc]:
        query: dict[str, Any] = {"endpoint_id": endpoint_id}
        if state is not None:
            query["state"] = state
        found = self.deliveries.find(query).sort("created_epoch", -1).skip(offset).limit(limit)
        return [from_store(d) async for d in found]  # type: ignore[misc]

    async def drop_endpoint(self, endpoint_id: str) -> None:
        await self.deliveries.delete_many({"endpoint_id": endpoint_id})

    async def erase_member(self, member_id: str, tombstone: str) -> int:
        """Blank every stored body (and answer) holding the member's data; unsent ones are not sent."""
        found = await self.deliveries.find({"member_id": member_id}, {"log": 1}).to_list()
        await self.deliveries.update_many(
            {"member_id": member_id, "state": "pending"},
            {"$set": {"state": "cancelled", "last_error": "erased", "finished_at": now_utc()}},
        )
        for doc in found:  # an answer may echo what it was sent
            blanked = {f"log.{n}.response_excerpt": None for n in doc.get("log") or {}}
            await self.deliveries.update_one(
                {"_id": doc["_id"]}, {"$set": {"body": tombstone, **blanked}, "$unset": {"member_id": ""}}
            )
        return len(found)

    async def purge_before(self, cutoff: float, batch: int = 500) -> int:
        """Delete finished deliveries (with their log) created before `cutoff` (epoch)."""
        ids = [
            d["_id"]
            async for d in self.deliveries.find(
                {"created_epoch": {"$lt": cutoff}, "state": {"$in": ["delivered", "failed", "cancelled"]}}, {"_id": 1}
            ).limit(batch)
        ]
        if ids:
            await self.deliveries.delete_many({"_id": {"$in": ids}})
        return len(ids)
