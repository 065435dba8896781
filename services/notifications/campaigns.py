"""Campaigns staff start, watch and steer: the use cases behind the campaign
endpoints. Who may address or see a campaign is the shared reach rule
(shared.access, through campaign_rules.within); running them is campaign_runner.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.notifications import campaign_rules
from services.notifications.campaign_runner import CampaignRunner
from services.notifications.campaign_store import CampaignStore
from services.notifications.endpoints import CampaignIn
from services.notifications.messages import MESSAGES
from services.notifications.records import CampaignDoc
from services.notifications.rendering import Renderer
from shared.access import OrganizationTree, Reach
from shared.errors import NotFound
from shared.identity import Identity
from shared.mongo import from_store
from shared.settings import Settings

LIST_LIMIT_FOR_ALL = 100
LIST_SCAN_FOR_SOME = 500


class CampaignDesk:
    def __init__(
        self,
        settings: Settings,
        store: CampaignStore,
        tree: OrganizationTree,
        renderer: Renderer,
        runner: CampaignRunner,
        wake_dispatcher: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.tree = tree
        self.renderer = renderer
        self.runner = runner
        self.wake_dispatcher = wake_dispatcher

    async def start(self, who: Identity, body: CampaignIn) -> dict[str, Any]:
        campaign_rules.check_segment(body.segment.model_dump(), await self.tree.reach(who))
        if body.sms_text:
            campaign_rules.check_sms_segments(await self._sms_segments(body), self.settings.sms_max_segments)
        doc = await self.store.create(body.model_dump(mode="json"), who.sub)
        self.runner.wake()
        return await self._public(doc)

    async def page(self, who: Identity, limit: int) -> dict[str, Any]:
        reach = await self.tree.reach(who)
        scan = min(limit, LIST_LIMIT_FOR_ALL) if reach.everything else LIST_SCAN_FOR_SOME
        docs = [d for d in await self.store.newest(scan) if campaign_rules.within(d["segment"], reach)][:limit]
        return {"items": [await self._public(d) for d in docs]}

    async def show(self, who: Identity, campaign_id: str) -> dict[str, Any]:
        return await self._public(await self._visible(campaign_id, await self.tree.reach(who)))

    async def steer(self, who: Identity, campaign_id: str, action: str) -> dict[str, Any]:
        """Pause, resume or cancel (campaign_rules.TRANSITIONS)."""
        current = await self._visible(campaign_id, await self.tree.reach(who))
        move = campaign_rules.transition(action)
        doc = await self.store.set_status(current["_id"], move.to, move.allowed_from)
        if doc is None:
            raise campaign_rules.refused(action, current["status"])
        self.runner.wake()
        self.wake_dispatcher()
        return await self._public(doc)

    async def _sms_segments(self, body: CampaignIn) -> int:
        s = self.settings
        sms = await self.renderer.off_loop(
            self.renderer.sms,
            "announcement",
            body.language,
            {"sms_text": body.sms_text},
            unicode=s.sms_unicode,
            announcement=(s.sms_announcement_tag, s.sms_opt_out_text),
        )
        return sms.size.segments

    async def _visible(self, campaign_id: str, reach: Reach) -> CampaignDoc:
        doc = await self.store.get(campaign_id)
        if doc is None or not campaign_rules.within(doc["segment"], reach):
            raise NotFound(MESSAGES("notifications.no_such_campaign"))
        return doc

    async def _public(self, doc: CampaignDoc) -> dict[str, Any]:
        d = from_store(dict(doc))
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
            "progress": await self.store.progress(d["_id"]),
            "created_by": d.get("created_by"),
            "created_at": d["created_at"],
            "updated_at": d["updated_at"],
        }
