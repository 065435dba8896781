"""An event's lifecycle: publish, close registration, complete, cancel (telling every
registrant), and capacity changes that promote from the waiting list at once."""

from __future__ import annotations

from typing import Any

from services.events.announcements import registrant, summary
from services.events.catalogue import MESSAGES
from services.events.organising import EventDesk
from services.events.programme import ChangedMeanwhile, ensure_editable, iso, next_status, stamp
from services.events.reach import PRODUCER, Deps
from services.events.records import EventDoc
from services.events.registrants import HOLDER_FIELDS
from services.events.reminders import Reminders
from services.events.seating import Seating
from shared.clock import epoch, now_utc
from shared.contracts import EventCancelled, EventData, EventPublished, EventUpdated, new_event
from shared.errors import Conflict
from shared.identity import Identity


class CapacityBelowConfirmed(Conflict):
    code, title = "capacity-below-confirmed", MESSAGES("events.capacity_below_confirmed")


class Lifecycle:
    def __init__(self, deps: Deps, desk: EventDesk, seating: Seating, reminders: Reminders) -> None:
        self.deps = deps
        self.desk = desk
        self.seating = seating
        self.reminders = reminders

    async def publish(self, who: Identity, event_id: str, correlation_id: str | None) -> dict[str, Any]:
        doc = await self.deps.event_for(who, event_id)
        if doc["last_end"] <= epoch():
            raise Conflict(MESSAGES("events.already_over"), ends_at=iso(doc["ends_at"]))
        done = await self._move(
            doc, "publish", EventPublished(event=self._about(doc), capacity=doc["capacity"]), correlation_id
        )
        await self.reminders.plan(done)
        return await self.desk.view(done)

    async def close_registration(self, who: Identity, event_id: str, correlation_id: str | None) -> dict[str, Any]:
        doc = await self.deps.event_for(who, event_id)
        data = EventUpdated(event=self._about(doc), changed=["status"])
        return await self.desk.view(await self._move(doc, "close_registration", data, correlation_id))

    async def complete(self, who: Identity, event_id: str, correlation_id: str | None) -> dict[str, Any]:
        doc = await self.deps.event_for(who, event_id)
        done = await self._move(
            doc, "complete", EventUpdated(event=self._about(doc), changed=["status"]), correlation_id
        )
        await self.reminders.drop(done)
        return await self.desk.view(done)

    async def cancel(
        self, who: Identity, event_id: str, reason: str | None, correlation_id: str | None
    ) -> dict[str, Any]:
        """First stop every seat from moving, then tell everyone who held one or waited."""
        doc = await self.deps.event_for(who, event_id)
        done = await self._move(doc, "cancel", None, correlation_id, cancel_reason=reason)
        await self.reminders.drop(done)
        active = {"event_id": event_id, "status": {"$in": ["confirmed", "waitlisted"]}}
        people = [registrant(r) for r in await self.deps.regs.page(active, order="created_epoch")]
        await self.deps.regs.change_all(
            active,
            {
                "$set": {"status": "cancelled", "cancelled_by": "event_cancelled", "cancelled_at": done["updated_at"]},
                "$unset": {f: "" for f in HOLDER_FIELDS},
            },
        )
        announcement = EventCancelled(event=self._about(doc), reason=reason, registrants=people)
        await self.deps.events.announce(
            event_id, {"cancel_announced": 1}, new_event(announcement, producer=PRODUCER, correlation_id=correlation_id)
        )
        return await self.desk.view(await self.deps.event(event_id))

    async def set_capacity(
        self, who: Identity, event_id: str, capacity: int, correlation_id: str | None
    ) -> dict[str, Any]:
        """Raising capacity promotes from the waiting list at once; lowering it never
        un-confirms anyone: below the confirmed count it is refused."""
        doc = await self._change_capacity(who, event_id, capacity)
        if doc["status"] != "draft":
            data = EventUpdated(event=self._about(doc), changed=["capacity"])
            await self.deps.events.announce(
                event_id,
                {"updated_at": stamp(now_utc())},
                new_event(data, producer=PRODUCER, correlation_id=correlation_id),
            )
        if capacity > doc["capacity"]:
            await self.seating.fill(event_id, correlation_id)
        return await self.desk.view(await self.deps.event(event_id))

    async def _change_capacity(self, who: Identity, event_id: str, capacity: int) -> EventDoc:
        """The event as it was before the change (compare-and-set on the capacity read)."""
        for _ in range(5):
            doc = await self.deps.event_for(who, event_id)
            ensure_editable(doc["status"])
            after = await self.deps.ledger.set_capacity(event_id, doc["capacity"], capacity)
            self.deps.cache.forget(event_id)
            if after is not None:
                return doc
            fresh = await self.deps.event(event_id)
            if fresh["capacity"] == doc["capacity"] and capacity < fresh["confirmed"]:
                raise CapacityBelowConfirmed(
                    MESSAGES("events.capacity_below_confirmed.detail", confirmed=fresh["confirmed"]),
                    confirmed=fresh["confirmed"],
                    requested=capacity,
                )
        raise ChangedMeanwhile()

    async def _move(
        self, doc: EventDoc, action: str, data: EventData | None, correlation_id: str | None, **fields: Any
    ) -> EventDoc:
        """Move the event to its next state (compare-and-set on the state read), announcing `data`."""
        target = next_status(doc["status"], action)
        now = stamp(now_utc())
        update = {"$set": {"status": target, "updated_at": now, f"{target}_at": now, **fields}}
        envelopes = [new_event(data, producer=PRODUCER, correlation_id=correlation_id)] if data else []
        done = await self.deps.events.change(doc["_id"], doc["status"], update, *envelopes)
        self.deps.cache.forget(doc["_id"])
        if done is None:
            raise ChangedMeanwhile()
        return done

    def _about(self, doc: EventDoc) -> Any:
        return summary(doc, self.deps.links)
