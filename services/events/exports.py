"""Documents handed out: tables of registrations and attendance (within the caller's
reach), the event's and a member's calendars, tickets' QR codes."""

from __future__ import annotations

from typing import Any

from services.events import documents
from services.events.catalogue import MESSAGES
from services.events.reach import Deps, own
from services.events.registrants import normalise_code
from services.events.registrations import invalid_link
from shared.clock import now_utc
from shared.errors import NotFound
from shared.identity import Identity


class Exports:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def table(self, who: Identity, event_id: str, what: str, fmt: str) -> tuple[bytes, str, str]:
        """Registrations or attendance of an event: (body, media type, file name)."""
        event = await self.deps.event_for(who, event_id)
        match: dict[str, Any] = {"event_id": event["_id"], **own(who)}
        if what == "attendance":
            match.update(status="confirmed", attended=1)
        regs = await self.deps.regs.page(match, order="created_epoch")
        body, media = documents.export(what, fmt, regs)
        return body, media, f"{what}-{event['_id'][:8]}-{documents.stamp(now_utc())}.{fmt}"

    async def event_calendar(self, event_id: str) -> tuple[bytes, str]:
        """A published event's .ics (public: it is in every message about the event)."""
        doc = await self.deps.events.get(event_id)
        if doc is None or doc["status"] == "draft":
            raise NotFound(MESSAGES("events.no_event"), event_id=event_id)
        return documents.calendar([doc], name=doc["title"]["vi"]), f"{doc['_id']}.ics"

    async def member_feed(self, member_id: str, token: str) -> bytes:
        if not self.deps.links.calendar_token_ok(member_id, token):
            raise invalid_link("events.invalid_calendar_link")
        regs = await self.deps.regs.page({"member_id": member_id, "status": "confirmed"}, order="created_epoch")
        tickets = {r["event_id"]: r["ticket_code"] for r in regs}
        events = await self.deps.events.by_ids(list(tickets))
        return documents.calendar(sorted(events, key=lambda e: e["first_start"]), name="LienHiep", tickets=tickets)

    async def qr(self, ticket_code: str, kind: str) -> bytes:
        code = normalise_code(ticket_code)
        if await self.deps.regs.one({"ticket_code": code}, {"_id": 1}) is None:
            raise NotFound(MESSAGES("events.no_ticket"))
        return documents.qr_png(code) if kind == "png" else documents.qr_svg(code)
