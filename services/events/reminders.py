"""Reminders before an event (by default 24 hours and 2 hours before its first session),
announced exactly once per confirmed registration however many replicas run.

Publishing an event schedules one due item per reminder (key: event, hours, start
time, so moving the event makes new items and cancels the old). When such an item
falls due, one replica claims it (shared.scheduler's atomic lease) and fans it out
into one item per confirmed registration (deterministic keys, so a second fan-out
adds nothing); each of those is finished in the same write as its `event.reminder_due`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.events.announcements import Links, registrant, summary
from services.events.programme import ACTIVE
from services.events.records import EventDoc
from services.events.store import Events, Registrations
from shared.clock import epoch
from shared.contracts import Envelope, EventReminderDue, new_event
from shared.logging import get_logger
from shared.scheduler import DueItems

log = get_logger(__name__)


def parse_hours(raw: str) -> list[float]:
    hours = sorted({float(x) for x in raw.split(",") if x.strip()}, reverse=True)
    if any(h <= 0 for h in hours):
        raise ValueError("reminder hours must be positive")
    return hours


def label(hours: float) -> str:
    return f"{hours:g}h"


def event_item_key(event_id: str, hours: float, first_start: float) -> str:
    return f"event:{event_id}:{label(hours)}:{int(first_start)}"


class Reminders:
    def __init__(self, events: Events, regs: Registrations, items: DueItems, links: Links, hours: list[float]) -> None:
        self.events = events
        self.regs = regs
        self.items = items
        self.links = links
        self.hours = hours

    async def plan(self, event: EventDoc) -> list[str]:
        """Schedule this event's reminders (those still in the future); cancel outdated ones."""
        now = epoch()
        keys = []
        for hours in self.hours:
            due = event["first_start"] - hours * 3600
            if due <= now:
                continue
            key = event_item_key(event["_id"], hours, event["first_start"])
            await self.items.schedule(
                key,
                due,
                {"kind": "event", "event_id": event["_id"], "hours": hours, "first_start": event["first_start"]},
            )
            keys.append(key)
        for old in event.get("reminder_keys") or []:
            if old not in keys:
                await self.items.cancel(old)
        await self.events.set_fields(event["_id"], {"reminder_keys": keys})
        return keys

    async def drop(self, event: EventDoc) -> None:
        for key in event.get("reminder_keys") or []:
            await self.items.cancel(key)

    async def job(self, item: dict[str, Any]) -> Sequence[Envelope]:
        payload = item["payload"]
        event = await self.events.get(payload["event_id"])
        if event is None or event["status"] not in ACTIVE or event["first_start"] != payload["first_start"]:
            return []  # cancelled, finished or moved since: this reminder is void
        if payload["kind"] == "event":
            fanned = 0
            for reg in await self.regs.page({"event_id": event["_id"], "status": "confirmed"}, order="created_epoch"):
                fanned += await self.items.schedule(
                    f"registration:{reg['_id']}:{label(payload['hours'])}:{int(payload['first_start'])}",
                    epoch(),
                    {**payload, "kind": "registration", "registration_id": reg["_id"]},
                )
            log.info("reminders.fanned_out", event_id=event["_id"], reminder=label(payload["hours"]), count=fanned)
            return []
        found = await self.regs.get(payload["registration_id"])
        if found is None or found["status"] != "confirmed":
            return []
        return [
            new_event(
                EventReminderDue(
                    event=summary(event, self.links),
                    registrant=registrant(found),
                    reminder=label(payload["hours"]),
                    ticket_code=found.get("ticket_code"),
                    qr_url=self.links.qr(found["ticket_code"]),
                    cancel_url=self.links.cancel(found["_id"]),
                ),
                producer="events",
                correlation_id=item["_id"],
            )
        ]
