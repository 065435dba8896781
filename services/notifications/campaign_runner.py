"""Running campaigns: an announcement to a segment, planned and sent in the background.

When a campaign starts, who it reaches is fixed: their ids are stored in pages of
500. It is then planned page by page; after each page its cursor is stored. The
planning replica holds a lease on the campaign, renewed with every page, so after a
crash or restart another replica (or the same one) takes it over and continues from
the cursor. A page planned twice inserts nothing new (deterministic delivery keys),
so nothing is sent twice. Pausing moves the campaign's queued deliveries aside;
resuming puts them back; cancelling drops them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from services.notifications.campaign_store import CampaignStore
from services.notifications.catalogue import ANNOUNCEMENT, Recipient, expertise_key, pseudonym
from services.notifications.planner import Planner
from services.notifications.projections import ContactStore, DirectoryStore
from services.notifications.records import CampaignDoc, ContactDoc, RegistrationDoc
from services.notifications.store import DeliveryStore
from shared.access import OrganizationTree
from shared.clock import epoch
from shared.logging import get_logger
from shared.loops import BackgroundLoop

log = get_logger(__name__)
PAGE = 500
SAFETY_NET_SECONDS = 30.0
CONTACT_FIELDS = {"full_name": 1, "email": 1, "phone": 1, "consents": 1, "erased": 1, "preferences": 1}


class CampaignRunner:
    def __init__(
        self,
        store: CampaignStore,
        directory: DirectoryStore,
        planner: Planner,
        wake: Callable[[], None],
        page_size: int = PAGE,
        sender: Any = None,
    ) -> None:
        """`sender`: a Dispatcher; when given, each planned page is sent at once by this
        runner (claimed as it is inserted), else the dispatchers pick it up."""
        self.page_size = page_size
        self.sender = sender
        self.store = store
        self.directory = directory
        self.contacts: ContactStore = planner.contacts
        self.deliveries: DeliveryStore = planner.deliveries
        self.tree = OrganizationTree(directory.parents)
        self.planner = planner
        self.wake_dispatcher = wake
        self.owner = uuid.uuid4().hex
        self._stopping = False
        # Starting or resuming a campaign wakes the runner; idle, it only looks every
        # SAFETY_NET_SECONDS for a campaign whose replica died (its lease ran out).
        self._loop = BackgroundLoop("campaign-runner", self._step, idle_seconds=SAFETY_NET_SECONDS)

    def wake(self) -> None:
        self._loop.notify()

    def start(self) -> None:
        self._stopping = False
        self._loop.start()

    async def stop(self, grace_seconds: float = 20.0) -> None:
        """Stop after the chunk being sent (what is left of the page goes back to the
        queue for any dispatcher), so nothing is cut off between send and record."""
        self._stopping = True
        if not await self._loop.stop(grace_seconds=grace_seconds):
            log.warning("campaign.stop_timeout")

    async def _step(self) -> bool:
        campaign = await self.store.take(self.owner)
        if campaign is None:
            return False
        await self.run(campaign)
        return True

    async def run(self, campaign: CampaignDoc, pages: int | None = None) -> None:
        """Plan the campaign from its cursor until done, stopped, or `pages` pages.
        While one page is being sent, the next is planned (the store and the senders
        work at once)."""
        cid = campaign["_id"]
        total = campaign.get("pages_total")
        if total is None:
            total = await self._snapshot(campaign)
        page = int(campaign.get("cursor") or 0)
        done_pages = 0
        sending: asyncio.Task[bool] | None = None
        try:
            while (pages is None or done_pages < pages) and not self._stopping:
                token = uuid.uuid4().hex
                added = await self._plan_page(campaign, page, total, token)
                if sending is not None:
                    previous, sending = sending, None
                    if not await previous:  # paused, cancelled or stopping while sending the last page
                        await self._hand_back(cid, token)
                        return
                sending = self._start_sending(cid, token, added)
                page += 1
                kept = await self.store.advance(cid, self.owner, page, len(added), page >= total)
                if kept is None:  # paused or cancelled meanwhile: make its deliveries follow
                    await self._follow_status(cid, sending)
                    sending = None
                    return
                done_pages += 1
                if page >= total:
                    log.info("campaign.planned", campaign_id=cid, planned=kept.get("planned"))
                    return
        finally:
            if sending is not None:
                await sending
            await self.store.release(cid, self.owner)  # whoever continues need not wait for the lease

    async def _plan_page(self, campaign: CampaignDoc, page: int, total: int, token: str) -> list[str]:
        """Plan one page's deliveries; with a sender, stored as claimed by `token`."""
        people, contacts = await self._page(campaign, page) if page < total else ([], {})
        return await self.planner.plan(
            ANNOUNCEMENT,
            people,
            source_id=f"campaign:{campaign['_id']}",
            source_type="campaign",
            campaign_id=campaign["_id"],
            channels=tuple(campaign["channels"]),
            extra_context={
                "subject": campaign.get("subject") or "",
                "body": campaign.get("body") or "",
                "sms_text": campaign.get("sms_text") or "",
            },
            contacts=contacts,
            claim=self._claim(token),
        )

    def _claim(self, token: str) -> dict[str, Any] | None:
        if self.sender is None:
            return None
        # The lease outlasts sending the whole page at the slowest channel's rate.
        slowest = min(self.sender.limits[c].rate for c in ("email", "sms"))
        return {
            "status": "sending",
            "claim": token,
            "attempts": 1,
            "lease_until": epoch(plus_seconds=120 + 4 * self.page_size / slowest),
        }

    def _start_sending(self, cid: str, token: str, added: list[str]) -> asyncio.Task[bool] | None:
        if added and self.sender is not None:
            return asyncio.create_task(self._send_page(cid, token))
        if added:
            self.wake_dispatcher()
        return None

    async def _follow_status(self, cid: str, sending: asyncio.Task[bool] | None) -> None:
        """The campaign was paused or cancelled while planning: let the page being sent
        notice and hand back what it has not sent, and sweep the campaign's deliveries."""
        if sending is not None:
            await sending
        current = await self.store.get(cid)
        if current is not None:
            await self.store.sweep(cid, current["status"])

    async def _hand_back(self, cid: str, token: str) -> None:
        """Claimed deliveries this runner will not send go back to the queue, following
        the campaign's status (paused, cancelled, or running for another dispatcher)."""
        await self.deliveries.hand_back(token)
        await self.store.sweep(cid, await self.store.status(cid))
        self.wake_dispatcher()  # what is queued again is due now

    async def _send_page(self, cid: str, token: str) -> bool:
        """Send what this page claimed, a few seconds' worth at a time, looking between
        chunks whether staff paused or cancelled the campaign. False: they did."""
        docs = await self.deliveries.claimed(token)
        step = max(1, int(min(self.sender.limits[c].rate for c in ("email", "sms")) * 2))
        for start in range(0, len(docs), step):
            if self._stopping or await self.store.status(cid) != "running":
                await self._hand_back(cid, token)  # the rest of the page
                return False
            await self.sender.send_claimed(docs[start : start + step])
        return True

    async def _snapshot(self, campaign: CampaignDoc) -> int:
        """Who the campaign reaches, fixed when it starts: the ids in pages of
        `page_size`, so each page is read by key (the embedded store sorts a whole
        collection for every `_id > cursor` page)."""
        return await self.store.save_snapshot(campaign["_id"], await self._segment_ids(campaign), self.page_size)

    async def _segment_ids(self, campaign: CampaignDoc) -> list[str]:
        segment = campaign["segment"]
        kind, value = segment["kind"], segment.get("value")
        if kind == "event":
            return await self.directory.segment(str(value))
        if kind == "organization":
            subtree = await self.tree.subtree(str(value)) or {str(value)}
            return await self.contacts.segment({"organization_ids": {"$in": sorted(subtree)}})
        if kind == "expertise":
            # $in, not equality: the embedded store's index on an array misses an equality match
            return await self.contacts.segment({"expertise": {"$in": [expertise_key(value)]}})
        # everyone who consented to one of the campaign's channels
        return await self.contacts.segment({"$or": [{f"consents.{c}": "yes"} for c in campaign["channels"]]})

    async def _page(self, campaign: CampaignDoc, page: int) -> tuple[list[Recipient], dict[str, ContactDoc] | None]:
        """The people of a page, and their contacts documents when they were read here
        (members; an event's registrants' are read by the planner)."""
        ids = await self.store.page_ids(campaign["_id"], page)
        if not ids:
            return [], {}
        if campaign["segment"]["kind"] == "event":
            registrations = await self.directory.registrations_in(ids)
            ordered = sorted(registrations, key=lambda d: d["_id"])
            return [_registrant(d, campaign["language"]) for d in ordered if d.get("full_name")], None
        contacts = await self.contacts.many(ids, CONTACT_FIELDS)
        members = [
            _member(contacts[i], campaign["language"]) for i in sorted(contacts) if not contacts[i].get("erased")
        ]
        return members, contacts


def _registrant(d: RegistrationDoc, language: str) -> Recipient:
    return Recipient(
        d.get("member_id") or pseudonym("guest", d["_id"]),
        d.get("member_id"),
        d.get("full_name") or "",
        d.get("email"),
        d.get("phone"),
        language,
    )


def _member(d: ContactDoc, language: str) -> Recipient:
    return Recipient(
        d["_id"],
        d["_id"],
        d.get("full_name") or "",
        d.get("email"),
        d.get("phone"),
        language,
        consents={k: v == "yes" for k, v in (d.get("consents") or {}).items()},
    )
