"""Registrations after the fact: read them (an event's, a member's, one), and cancel
one — by staff, by the partner that made it, or by the registrant through the signed
link — giving a confirmed seat to the waiting list's head at once."""

from __future__ import annotations

from typing import Any

from services.events.announcements import registrant, summary
from services.events.catalogue import MESSAGES
from services.events.endpoints import MemberRegistrationQuery, RegistrationQuery, page_of
from services.events.programme import ACTIVE, ChangedMeanwhile, EventFinished, iso, stamp
from services.events.reach import PRODUCER, Deps, is_staff, own, sees_contact
from services.events.records import RegistrationDoc
from services.events.registrants import HOLDER_FIELDS
from services.events.seating import Seating
from services.events.views import registration_view
from shared.clock import local_time_text, now_utc
from shared.contracts import RegistrationCancelled, new_event
from shared.errors import Conflict, NotFound, Problem
from shared.identity import Identity


class AlreadyCancelled(Conflict):
    code, title = "registration-already-cancelled", MESSAGES("events.registration_already_cancelled")


def invalid_link(detail: str) -> Problem:
    return Problem(403, "invalid-link", MESSAGES("events.invalid_link"), MESSAGES(detail))


class Registrations:
    def __init__(self, deps: Deps, seating: Seating) -> None:
        self.deps = deps
        self.seating = seating

    # --- reading ----------------------------------------------------------------------

    async def of_event(self, who: Identity, event_id: str, query: RegistrationQuery) -> dict[str, Any]:
        event = await self.deps.event_for(who, event_id)
        match: dict[str, Any] = {"event_id": event["_id"], **own(who)}
        if query.status:
            match["status"] = query.status
        waitlist = query.status == "waitlisted"
        docs = await self.deps.regs.page(
            match, order="wait_seq" if waitlist else "created_epoch", offset=query.offset, limit=query.limit
        )
        items = [self.view(who, d, position=query.offset + i + 1 if waitlist else None) for i, d in enumerate(docs)]
        return page_of(items, query.offset, query.limit)

    async def of_member(self, who: Identity, member_id: str, query: MemberRegistrationQuery) -> dict[str, Any]:
        """A member's registrations at the events the caller reaches (partners: those it made), newest first."""
        match: dict[str, Any] = {"member_id": member_id, **own(who)}
        if query.status:
            match["status"] = query.status
        docs = await self.deps.regs.page(match, order="created_epoch")  # a member has few
        events = {e["_id"]: e for e in await self.deps.events.by_ids(sorted({d["event_id"] for d in docs}))}
        reached = [
            d for d in reversed(docs) if d["event_id"] in events and await self.deps.reaches(who, events[d["event_id"]])
        ]
        items = [self.view(who, d) for d in reached[query.offset : query.offset + query.limit]]
        return page_of(items, query.offset, query.limit)

    async def one(self, who: Identity, registration_id: str) -> dict[str, Any]:
        reg, _ = await self.deps.registration_for(who, registration_id)
        return self.view(who, reg, position=await self.position(reg))

    async def by_link(self, registration_id: str, token: str) -> tuple[dict[str, Any], Any]:
        """What the signed link in the confirmation shows: the registration and its event."""
        reg = await self._linked(registration_id, token)
        event = await self.deps.event(reg["event_id"])
        return registration_view(reg, self.deps.links, position=await self.position(reg)), event

    async def position(self, reg: RegistrationDoc) -> int | None:
        if reg.get("status") != "waitlisted":
            return None
        ahead = await self.deps.regs.count(
            {"event_id": reg["event_id"], "status": "waitlisted", "wait_seq": {"$lt": reg["wait_seq"]}}
        )
        return ahead + 1

    def view(self, who: Identity, reg: RegistrationDoc, position: int | None = None) -> dict[str, Any]:
        return registration_view(reg, self.deps.links, position=position, contact=sees_contact(who, reg))

    # --- cancelling --------------------------------------------------------------------

    async def cancel(self, who: Identity, registration_id: str, correlation_id: str | None) -> dict[str, Any]:
        reg, _ = await self.deps.registration_for(who, registration_id)
        done = await self._cancel(reg["_id"], "staff" if is_staff(who) else "partner", correlation_id)
        return self.view(who, done)

    async def cancel_by_link(self, registration_id: str, token: str, correlation_id: str | None) -> dict[str, Any]:
        await self._linked(registration_id, token)
        return registration_view(await self._cancel(registration_id, "registrant", correlation_id), self.deps.links)

    async def _linked(self, registration_id: str, token: str) -> RegistrationDoc:
        if not self.deps.links.cancel_token_ok(registration_id, token):
            raise invalid_link("events.invalid_cancel_link")
        reg = await self.deps.regs.get(registration_id)
        if reg is None:
            raise NotFound(MESSAGES("events.no_registration"), registration_id=registration_id)
        return reg

    async def _cancel(self, registration_id: str, by: str, correlation_id: str | None) -> RegistrationDoc:
        """Cancel once; a confirmed seat goes to the waiting list's head at once."""
        for _ in range(5):
            reg = await self.deps.regs.get(registration_id)
            assert reg is not None
            if reg["status"] == "cancelled":
                raise AlreadyCancelled(
                    MESSAGES("events.already_cancelled", when=local_time_text(reg["cancelled_at"])),
                    cancelled_at=iso(reg.get("cancelled_at")),
                    registration_id=registration_id,
                )
            event = await self.deps.event(reg["event_id"])
            if event["status"] not in (*ACTIVE, "draft"):
                raise EventFinished(MESSAGES("events.event_finished.detail", status=event["status"]))
            envelope = new_event(
                RegistrationCancelled(
                    event=summary(event, self.deps.links), registrant=registrant(reg), cancelled_by=by
                ),
                producer=PRODUCER,
                correlation_id=correlation_id,
            )
            fields = {"status": "cancelled", "cancelled_at": stamp(now_utc()), "cancelled_by": by}
            done = await self.deps.regs.change(
                {"_id": registration_id, "status": reg["status"]},
                {"$set": {**fields, "status_before_cancel": reg["status"]}, "$unset": {f: "" for f in HOLDER_FIELDS}},
                envelope,
            )
            if done is None:
                continue  # promoted or cancelled meanwhile: look again
            await self._free(reg, correlation_id)
            return done
        raise ChangedMeanwhile()

    async def _free(self, reg: RegistrationDoc, correlation_id: str | None) -> None:
        self.deps.cache.forget(reg["event_id"])
        if reg["status"] == "confirmed":
            await self.deps.ledger.give_back_seat(reg["event_id"])
            await self.seating.fill(reg["event_id"], correlation_id)
        else:
            await self.deps.ledger.leave_waitlist(reg["event_id"])
