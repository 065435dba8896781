"""Campaigns: an announcement to a segment, planned in the background.

When a campaign starts, who it reaches is fixed: their ids are stored in pages of
500. It is then planned page by page; after each page its cursor is stored. The planning replica holds a lease on the campaign, renewed
with every page, so after a crash or restart another replica (or the same one)
takes it over and continues from the cursor. A page planned twice inserts nothing
new (deterministic delivery keys), so nothing is sent twice. Pausing moves the
campaign's queued deliveries aside; resuming puts them back; cancelling drops them.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.catalogue import ANNOUNCEMENT, Recipient, expertise_key, pseudonym
from services.notifications.planner import Planner
from services.notifications.store import DirectoryStore
from shared.logging import get_logger
from shared.mongo import IndexSpec, epoch, from_store
from shared.waiting import finish_then_stop, wake_or_timeout

log = get_logger(__name__)
CAMPAIGNS = "campaigns"
CAMPAIGN_PAGES = "campaign_pages"
INDEXES = [IndexSpec(CAMPAIGN_PAGES, [("campaign_id", 1)]), IndexSpec(CAMPAIGNS, [("created_at", -1)])]
PAGE = 500
LEASE_SECONDS = 30.0


class CampaignStore:
    def __init__(self, db: AsyncDatabase, lease_seconds: float = LEASE_SECONDS) -> None:
        self.lease_seconds = lease_seconds
        self.campaigns = db[CAMPAIGNS]
        self.pages = db[CAMPAIGN_PAGES]
        self.deliveries = db["deliveries"]
        self.contacts = db["contacts"]
        self.registrations = db["registrations"]

    async def create(self, fields: dict[str, Any], author: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        doc = {
            "_id": str(uuid.uuid4()),
            **fields,
            "status": "running",
            "cursor": 0,
            "planned": 0,
            "planning_done": "no",
            "lease_until": 0.0,
            "created_by": author,
            "created_at": now,
            "updated_at": now,
        }
        await self.campaigns.insert_one(doc)
        return doc

    async def get(self, campaign_id: str) -> dict[str, Any] | None:
        return await self.campaigns.find_one({"_id": campaign_id})

    async def list(self, limit: int) -> list[dict[str, Any]]:
        return [d async for d in self.campaigns.find({}).sort("created_at", -1).limit(limit)]

    async def progress(self, campaign_id: str) -> dict[str, int]:
        counts = {
            "planned": 0,
            "queued": 0,
            "sending": 0,
            "sent": 0,
            "delivered": 0,
            "skipped": 0,
            "failed": 0,
            "dead": 0,
            "paused": 0,
            "cancelled": 0,
            "undelivered": 0,
        }
        async for row in await self.deliveries.aggregate(
            [{"$match": {"campaign_id": campaign_id}}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        ):
            counts[row["_id"]] = counts.get(row["_id"], 0) + int(row["n"])
        counts["planned"] = sum(v for k, v in counts.items() if k != "planned")
        return counts

    async def set_status(self, campaign_id: str, status: str, allowed_from: tuple[str, ...]) -> dict[str, Any] | None:
        doc = await self.campaigns.find_one_and_update(
            {"_id": campaign_id, "status": {"$in": list(allowed_from)}},
            {"$set": {"status": status, "updated_at": datetime.now(UTC)}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            await self.sweep(campaign_id, status)
        return doc

    async def sweep(self, campaign_id: str, status: str) -> None:
        """Bring the campaign's unsent deliveries in line with its status."""
        if status == "paused":
            await self.deliveries.update_many(
                {"campaign_id": campaign_id, "status": "queued"}, {"$set": {"status": "paused"}}
            )
        elif status == "running":
            await self.deliveries.update_many(
                {"campaign_id": campaign_id, "status": "paused"}, {"$set": {"status": "queued", "due": epoch()}}
            )
        elif status == "cancelled":
            await self.deliveries.update_many(
                {"campaign_id": campaign_id, "status": {"$in": ["queued", "paused"]}}, {"$set": {"status": "cancelled"}}
            )

    async def take(self, owner: str) -> dict[str, Any] | None:
        """Lease a running campaign that still has recipients to plan."""
        now = epoch()
        return await self.campaigns.find_one_and_update(
            {"status": "running", "planning_done": "no", "lease_until": {"$lt": now}},
            {"$set": {"lease_until": now + self.lease_seconds, "owner": owner}},
            return_document=ReturnDocument.AFTER,
        )

    async def advance(self, campaign_id: str, owner: str, cursor: int, added: int, done: bool) -> dict[str, Any] | None:
        """Store progress while still holding the lease; None: lost it or the campaign stopped."""
        return await self.campaigns.find_one_and_update(
            {"_id": campaign_id, "owner": owner, "status": "running"},
            {
                "$set": {
                    "cursor": cursor,
                    "planning_done": "yes" if done else "no",
                    "lease_until": epoch(plus_seconds=self.lease_seconds),
                    "updated_at": datetime.now(UTC),
                },
                "$inc": {"planned": added},
            },
            return_document=ReturnDocument.AFTER,
        )

    async def release(self, campaign_id: str, owner: str) -> None:
        await self.campaigns.update_one({"_id": campaign_id, "owner": owner}, {"$set": {"lease_until": 0.0}})


class CampaignRunner:
    def __init__(
        self,
        store: CampaignStore,
        directory: DirectoryStore,
        planner: Planner,
        wake,
        page_size: int = PAGE,
        sender: Any = None,
    ) -> None:
        """`sender`: a Dispatcher; when given, each planned page is sent at once by this
        runner (claimed as it is inserted), else the dispatchers pick it up."""
        self.page_size = page_size
        self.sender = sender
        self.store = store
        self.directory = directory
        self.planner = planner
        self.wake_dispatcher = wake
        self.owner = uuid.uuid4().hex
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="campaign-runner")

    async def stop(self, grace_seconds: float = 20.0) -> None:
        """Stop after the chunk being sent (what is left of the page goes back to the
        queue for any dispatcher), so nothing is cut off between send and record."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        if not await finish_then_stop(self._task, grace_seconds):
            log.warning("campaign.stop_timeout")
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                campaign = await self.store.take(self.owner)
                if campaign is not None:
                    await self.run(campaign)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("campaign.failed")
            await wake_or_timeout(self._wake, 2.0)
            self._wake.clear()

    async def run(self, campaign: dict[str, Any], pages: int | None = None) -> None:
        """Plan the campaign from its cursor until done, stopped, or `pages` pages.
        While one page is being sent, the next is planned (the store and the senders
        work at once)."""
        cid = campaign["_id"]
        total = campaign.get("pages_total")
        if total is None:
            total = await self._snapshot(campaign)
        page = int(campaign.get("cursor") or 0)
        done_pages = 0
        sending: asyncio.Task | None = None
        try:
            while (pages is None or done_pages < pages) and not self._stopping:
                people = await self._page(campaign, page) if page < total else []
                token = uuid.uuid4().hex
                claim = None
                if self.sender is not None:
                    # The lease outlasts sending the whole page at the slowest channel's rate.
                    slowest = min(limiter.rate for limiter in self.sender.limits.values())
                    claim = {
                        "status": "sending",
                        "claim": token,
                        "attempts": 1,
                        "lease_until": epoch(plus_seconds=120 + 4 * self.page_size / slowest),
                    }
                added = await self.planner.plan(
                    ANNOUNCEMENT,
                    people,
                    source_id=f"campaign:{cid}",
                    source_type="campaign",
                    campaign_id=cid,
                    channels=tuple(campaign["channels"]),
                    extra_context={
                        "subject": campaign.get("subject") or "",
                        "body": campaign.get("body") or "",
                        "sms_text": campaign.get("sms_text") or "",
                    },
                    from_contacts=campaign["segment"]["kind"] != "event",
                    claim=claim,
                )
                if sending is not None:
                    previous, sending = sending, None
                    if not await previous:  # paused, cancelled or stopping while sending the last page
                        await self._hand_back(cid, token)
                        return
                if added and claim is not None:
                    sending = asyncio.create_task(self._send_page(cid, token))
                elif added:
                    self.wake_dispatcher()
                page += 1
                finished = page >= total
                kept = await self.store.advance(cid, self.owner, page, len(added), finished)
                if kept is None:  # paused or cancelled meanwhile: make its deliveries follow
                    if sending is not None:
                        previous, sending = sending, None
                        await previous  # notices the status and hands back what it has not sent
                    current = await self.store.get(cid)
                    if current is not None:
                        await self.store.sweep(cid, current["status"])
                    return
                done_pages += 1
                if finished:
                    log.info("campaign.planned", campaign_id=cid, planned=kept.get("planned"))
                    return
        finally:
            if sending is not None:
                await sending
            await self.store.release(cid, self.owner)  # whoever continues need not wait for the lease

    async def _hand_back(self, cid: str, token: str) -> None:
        """Claimed deliveries this runner will not send go back to the queue, following
        the campaign's status (paused, cancelled, or running for another dispatcher)."""
        await self.store.deliveries.update_many(
            {"claim": token, "status": "sending"},
            {"$set": {"status": "queued", "due": epoch()}, "$unset": {"claim": ""}},
        )
        current = await self.store.campaigns.find_one({"_id": cid}, {"status": 1})
        await self.store.sweep(cid, current["status"] if current else "cancelled")

    async def _send_page(self, cid: str, token: str) -> bool:
        """Send what this page claimed, a few seconds' worth at a time, looking between
        chunks whether staff paused or cancelled the campaign. False: they did."""
        docs = [d async for d in self.store.deliveries.find({"claim": token, "status": "sending"})]
        step = max(1, int(min(limiter.rate for limiter in self.sender.limits.values()) * 2))
        for start in range(0, len(docs), step):
            current = await self.store.campaigns.find_one({"_id": cid}, {"status": 1})
            status = current["status"] if current else "cancelled"
            if status != "running" or self._stopping:
                await self._hand_back(cid, token)  # the rest of the page
                return False
            await self.sender.send_claimed(docs[start : start + step])
        return True

    async def _snapshot(self, campaign: dict[str, Any]) -> int:
        """Who the campaign reaches, fixed when it starts: the ids in pages of
        `page_size`, so each page is read by key (the embedded store sorts a whole
        collection for every `_id > cursor` page)."""
        cid = campaign["_id"]
        collection, query = await self._segment_query(campaign)
        ids = sorted([d["_id"] async for d in collection.find(query, {"_id": 1})])
        await self.store.pages.delete_many({"campaign_id": cid})  # a half-made snapshot of a crashed start
        chunks = [ids[i : i + self.page_size] for i in range(0, len(ids), self.page_size)]
        if chunks:
            await self.store.pages.insert_many(
                [{"_id": f"{cid}:{n}", "campaign_id": cid, "ids": chunk} for n, chunk in enumerate(chunks)]
            )
        await self.store.campaigns.update_one(
            {"_id": cid}, {"$set": {"pages_total": len(chunks), "recipients_total": len(ids)}}
        )
        return len(chunks)

    async def _segment_query(self, campaign: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        segment = campaign["segment"]
        if segment["kind"] == "event":
            return self.store.registrations, {"event_id": segment["value"], "status": "active"}
        query: dict[str, Any] = {"erased": {"$exists": False}, "status": "active"}
        if segment["kind"] == "organization":
            query["organization_ids"] = {"$in": await self.directory.subtree(segment["value"])}
        elif segment["kind"] == "expertise":
            # $in, not equality: the embedded store's index on an array misses an equality match
            query["expertise"] = {"$in": [expertise_key(segment["value"])]}
        else:  # everyone who consented to one of the campaign's channels
            query["$or"] = [{f"consents.{c}": "yes"} for c in campaign["channels"]]
        return self.store.contacts, query

    async def _page(self, campaign: dict[str, Any], page: int) -> list[Recipient]:
        language = campaign["language"]
        chunk = await self.store.pages.find_one({"_id": f"{campaign['_id']}:{page}"})
        ids = list((chunk or {}).get("ids") or [])
        if not ids:
            return []
        if campaign["segment"]["kind"] == "event":
            docs = [d async for d in self.store.registrations.find({"_id": {"$in": ids}, "status": "active"})]
            return [
                Recipient(
                    d.get("member_id") or pseudonym("guest", d["_id"]),
                    d.get("member_id"),
                    d.get("full_name") or "",
                    d.get("email"),
                    d.get("phone"),
                    language,
                )
                for d in sorted(docs, key=lambda d: d["_id"])
                if d.get("full_name")
            ]
        fields = {"full_name": 1, "email": 1, "phone": 1, "consents": 1, "erased": 1}
        docs = [d async for d in self.store.contacts.find({"_id": {"$in": ids}}, fields)]
        return [
            Recipient(
                d["_id"],
                d["_id"],
                d.get("full_name") or "",
                d.get("email"),
                d.get("phone"),
                language,
                consents={k: v == "yes" for k, v in (d.get("consents") or {}).items()},
            )
            for d in sorted(docs, key=lambda d: d["_id"])
            if not d.get("erased")
        ]


def public_campaign(doc: dict[str, Any], progress: dict[str, int]) -> dict[str, Any]:
    d = from_store(doc)
    return {
        "id": d["_id"],
        "name": d["name"],
        "segment": d["segment"],
        "channels": d["channels"],
        "language": d["language"],
        "subject": d.get("subject"),
        "body": d.get("body"),
        "sms_text": d.get("sms_text"),
        "status": d["status"],
        "planning_done": d.get("planning_done") == "yes",
        "progress": progress,
        "created_by": d.get("created_by"),
        "created_at": d["created_at"],
        "updated_at": d["updated_at"],
    }
