"""Campaigns in the store: the campaign documents (status, cursor, planning lease),
the snapshot of who a campaign reaches (pages of ids), and the campaign-wide moves of
its deliveries (progress counts, pause/resume/cancel sweeps). Queries and writes only.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.records import CampaignDoc
from services.notifications.store import DELIVERIES
from shared.clock import epoch, now_utc
from shared.mongo import IndexSpec

CAMPAIGNS = "campaigns"
CAMPAIGN_PAGES = "campaign_pages"
INDEXES = [IndexSpec(CAMPAIGN_PAGES, [("campaign_id", 1)]), IndexSpec(CAMPAIGNS, [("created_at", -1)])]
LEASE_SECONDS = 30.0
PROGRESS = (
    "planned",
    "queued",
    "sending",
    "sent",
    "delivered",
    "skipped",
    "failed",
    "dead",
    "paused",
    "cancelled",
    "undelivered",
)
# How a campaign's unsent deliveries follow its status: (from statuses, to status).
SWEEPS: dict[str, tuple[list[str], str]] = {
    "paused": (["queued"], "paused"),
    "running": (["paused"], "queued"),
    "cancelled": (["queued", "paused"], "cancelled"),
}


class CampaignStore:
    def __init__(self, db: AsyncDatabase, lease_seconds: float = LEASE_SECONDS) -> None:
        self.lease_seconds = lease_seconds
        self.campaigns = db[CAMPAIGNS]
        self.pages = db[CAMPAIGN_PAGES]
        self.deliveries = db[DELIVERIES]

    async def create(self, fields: dict[str, Any], author: str) -> CampaignDoc:
        now = now_utc()
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
        return cast(CampaignDoc, doc)

    async def get(self, campaign_id: str) -> CampaignDoc | None:
        return cast(CampaignDoc | None, await self.campaigns.find_one({"_id": campaign_id}))

    async def status(self, campaign_id: str) -> str:
        """The campaign's status now ("cancelled" if it is gone)."""
        current = await self.campaigns.find_one({"_id": campaign_id}, {"status": 1})
        return str(current["status"]) if current else "cancelled"

    async def newest(self, limit: int) -> list[CampaignDoc]:
        return [cast(CampaignDoc, d) async for d in self.campaigns.find({}).sort("created_at", -1).limit(limit)]

    async def progress(self, campaign_id: str) -> dict[str, int]:
        counts = dict.fromkeys(PROGRESS, 0)
        async for row in await self.deliveries.aggregate(
            [{"$match": {"campaign_id": campaign_id}}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        ):
            counts[row["_id"]] = counts.get(row["_id"], 0) + int(row["n"])
        counts["planned"] = sum(v for k, v in counts.items() if k != "planned")
        return counts

    async def set_status(self, campaign_id: str, status: str, allowed_from: tuple[str, ...]) -> CampaignDoc | None:
        doc = await self.campaigns.find_one_and_update(
            {"_id": campaign_id, "status": {"$in": list(allowed_from)}},
            {"$set": {"status": status, "updated_at": now_utc()}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            await self.sweep(campaign_id, status)
        return cast(CampaignDoc | None, doc)

    async def sweep(self, campaign_id: str, status: str) -> None:
        """Bring the campaign's unsent deliveries in line with its status."""
        if status not in SWEEPS:
            return
        before, after = SWEEPS[status]
        update: dict[str, Any] = {"status": after}
        if after == "queued":
            update["due"] = epoch()
        await self.deliveries.update_many({"campaign_id": campaign_id, "status": {"$in": before}}, {"$set": update})

    async def take(self, owner: str) -> CampaignDoc | None:
        """Lease a running campaign that still has recipients to plan."""
        now = epoch()
        return cast(
            CampaignDoc | None,
            await self.campaigns.find_one_and_update(
                {"status": "running", "planning_done": "no", "lease_until": {"$lt": now}},
                {"$set": {"lease_until": now + self.lease_seconds, "owner": owner}},
                return_document=ReturnDocument.AFTER,
            ),
        )

    async def advance(self, campaign_id: str, owner: str, cursor: int, added: int, done: bool) -> CampaignDoc | None:
        """Store progress while still holding the lease; None: lost it or the campaign stopped."""
        return cast(
            CampaignDoc | None,
            await self.campaigns.find_one_and_update(
                {"_id": campaign_id, "owner": owner, "status": "running"},
                {
                    "$set": {
                        "cursor": cursor,
                        "planning_done": "yes" if done else "no",
                        "lease_until": epoch(plus_seconds=self.lease_seconds),
                        "updated_at": now_utc(),
                    },
                    "$inc": {"planned": added},
                },
                return_document=ReturnDocument.AFTER,
            ),
        )

    async def release(self, campaign_id: str, owner: str) -> None:
        await self.campaigns.update_one({"_id": campaign_id, "owner": owner}, {"$set": {"lease_until": 0.0}})

    async def save_snapshot(self, campaign_id: str, ids: list[str], page_size: int) -> int:
        """Who the campaign reaches, in pages of `page_size` ids; the number of pages."""
        await self.pages.delete_many({"campaign_id": campaign_id})  # a half-made snapshot of a crashed start
        chunks = [ids[i : i + page_size] for i in range(0, len(ids), page_size)]
        if chunks:
            await self.pages.insert_many(
                [
                    {"_id": f"{campaign_id}:{n}", "campaign_id": campaign_id, "ids": chunk}
                    for n, chunk in enumerate(chunks)
                ]
            )
        await self.campaigns.update_one(
            {"_id": campaign_id}, {"$set": {"pages_total": len(chunks), "recipients_total": len(ids)}}
        )
        return len(chunks)

    async def page_ids(self, campaign_id: str, page: int) -> list[str]:
        chunk = await self.pages.find_one({"_id": f"{campaign_id}:{page}"})
        return list((chunk or {}).get("ids") or [])
