"""What staff read and do with the delivery log: list and read deliveries, replay a
dead-lettered one, see what is parked (deliveries and events), lift suppressions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.notifications.endpoints import Delivery, DeliveryQuery
from services.notifications.messages import MESSAGES
from services.notifications.store import DeliveryStore, SuppressionStore
from shared.bus import EventBus
from shared.errors import Conflict, NotFound
from shared.mongo import from_store

DEAD_LISTED = 200
PARKED_LISTED = 100


def public_delivery(d: dict[str, Any], with_content: bool = False) -> dict[str, Any]:
    out = {k: v for k, v in d.items() if k in Delivery.model_fields}
    out["template"] = d.get("notification") or d.get("template")
    out["attempts"] = int(d.get("attempts") or 0)
    if not with_content:
        out.pop("content", None)
    return out


class DeliveryLog:
    def __init__(
        self,
        deliveries: DeliveryStore,
        suppressions: SuppressionStore,
        bus: EventBus,
        wake_dispatcher: Callable[[], None],
    ) -> None:
        self.deliveries = deliveries
        self.suppressions = suppressions
        self.bus = bus
        self.wake_dispatcher = wake_dispatcher

    async def page(self, query: DeliveryQuery) -> dict[str, Any]:
        items = await self.deliveries.list(**query.model_dump())
        return {"items": [public_delivery(d) for d in items]}

    async def show(self, key: str) -> dict[str, Any]:
        doc = await self.deliveries.get(key)
        if doc is None:
            raise NotFound(MESSAGES("notifications.no_such_delivery"))
        d = from_store(dict(doc))
        return public_delivery({"key": d.pop("_id"), **d}, with_content=True)

    async def replay(self, key: str) -> dict[str, Any]:
        if await self.deliveries.get(key) is None:
            raise NotFound(MESSAGES("notifications.no_such_delivery"))
        if not await self.deliveries.replay(key):
            raise Conflict(MESSAGES("notifications.not_replayable"))
        self.wake_dispatcher()
        return await self.show(key)

    async def dead_letters(self) -> dict[str, Any]:
        dead = await self.deliveries.list(status="dead", limit=DEAD_LISTED)
        events = []
        for sub in self.bus.subscriptions:
            for parked in await self.bus.dead_letters(sub.name, limit=PARKED_LISTED):
                events.append({"handler": sub.name, **parked, "attempts": int(parked.get("attempts") or 1)})
        return {"deliveries": [public_delivery(d) for d in dead], "events": events}

    async def replay_events(self, handler: str) -> dict[str, Any]:
        names = [s.name for s in self.bus.subscriptions]
        if handler not in names:
            raise NotFound(MESSAGES("notifications.no_such_handler"), handlers=names)
        # Only what is parked now: a message that fails again is parked behind them, and
        # replay_dead would otherwise take it again and again.
        parked_now = len(await self.bus.dead_letters(handler, limit=1000))
        replayed = await self.bus.replay_dead(handler, limit=parked_now) if parked_now else 0
        return {"replayed": replayed}

    async def suppressed(self, limit: int) -> dict[str, Any]:
        return {"items": await self.suppressions.list(limit)}

    async def unsuppress(self, address: str) -> None:
        if not await self.suppressions.remove(address):
            raise NotFound(MESSAGES("notifications.not_suppressed"))
