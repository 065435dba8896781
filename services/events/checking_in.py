"""At the door: a ticket checked in once per session (tickets of events within the
caller's reach only), and who came."""

from __future__ import annotations

from typing import Any

from services.events.announcements import registrant, summary
from services.events.catalogue import MESSAGES
from services.events.programme import ChangedMeanwhile, current_session, iso, ordered_sessions, stamp
from services.events.reach import PRODUCER, Deps, own
from services.events.records import EventDoc, RegistrationDoc
from services.events.registrants import normalise_code
from services.events.registrations import Registrations
from shared.clock import epoch, local_time_text, now_utc
from shared.contracts import AttendanceCheckedIn, new_event
from shared.errors import Conflict, DomainError, NotFound
from shared.identity import Identity


class AlreadyCheckedIn(Conflict):
    code, title = "already-checked-in", MESSAGES("events.already_checked_in.title")


class NotCheckable(Conflict):
    code, title = "ticket-not-valid", MESSAGES("events.ticket_not_valid")


class UnknownSession(DomainError):
    status, code, title = 422, "unknown-session", MESSAGES("events.unknown_session")


class Door:
    def __init__(self, deps: Deps, registrations: Registrations) -> None:
        self.deps = deps
        self.registrations = registrations

    async def check_in(
        self, who: Identity, code: str, session_id: str | None, correlation_id: str | None
    ) -> dict[str, Any]:
        reg, event = await self._ticket(who, normalise_code(code))
        now = stamp(now_utc())
        sid = session_id or current_session(event, epoch(now))
        if sid not in (event.get("sessions") or {}):
            raise UnknownSession(
                MESSAGES("events.unknown_session.detail", session=sid),
                session_id=sid,
                sessions=sorted(event.get("sessions") or {}),
            )
        checkable(reg, sid)
        envelope = new_event(
            AttendanceCheckedIn(
                event=summary(event, self.deps.links),
                registrant=registrant(reg),
                ticket_code=reg["ticket_code"],
                session_id=sid,
                checked_in_at=now,
            ),
            producer=PRODUCER,
            correlation_id=correlation_id,
        )
        done = await self.deps.regs.change(
            {"_id": reg["_id"], "status": "confirmed", f"checkins.{sid}": {"$exists": False}},
            {"$set": {f"checkins.{sid}": now, "attended": 1, f"checked_in_by.{sid}": who.sub}},
            envelope,
        )
        if done is None:
            fresh = await self.deps.regs.get(reg["_id"])
            assert fresh is not None
            checkable(fresh, sid)
            raise ChangedMeanwhile()
        return {
            "registration": self.registrations.view(who, done),
            "session_id": sid,
            "checked_in_at": iso(now),
            "checked_in_at_local": local_time_text(now),
        }

    async def _ticket(self, who: Identity, ticket: str) -> tuple[RegistrationDoc, EventDoc]:
        """The ticket's registration and event, if the caller reaches the event (else not found)."""
        reg = await self.deps.regs.one({"ticket_code": ticket})
        event = await self.deps.events.get(reg["event_id"]) if reg is not None else None
        if reg is None or event is None or not await self.deps.reaches(who, event):
            raise NotFound(MESSAGES("events.no_ticket"), ticket_code=ticket)
        return reg, event

    async def attendance(self, who: Identity, event_id: str) -> dict[str, Any]:
        event = await self.deps.event_for(who, event_id)
        mine = {"event_id": event["_id"], "status": "confirmed", **own(who)}
        sessions = [
            {
                "session_id": sid,
                "starts_at": iso(s["starts_at"]),
                "checked_in": await self.deps.regs.count({**mine, f"checkins.{sid}": {"$exists": True}}),
            }
            for sid, s in ordered_sessions(event)
        ]
        people = await self.deps.regs.page({**mine, "attended": 1}, order="created_epoch")
        return {
            "event_id": event["_id"],
            "confirmed": event.get("confirmed", 0),
            "attended": len(people),
            "sessions": sessions,
            "people": [self.registrations.view(who, p) for p in people],
        }


def checkable(reg: RegistrationDoc, sid: str) -> None:
    if reg["status"] != "confirmed":
        raise NotCheckable(MESSAGES("events.not_confirmed", status=reg["status"]), registration_status=reg["status"])
    when = (reg.get("checkins") or {}).get(sid)
    if when:
        raise AlreadyCheckedIn(
            MESSAGES("events.already_checked_in", when=local_time_text(when)),
            checked_in_at=iso(when),
            session_id=sid,
            full_name=reg.get("full_name"),
        )
