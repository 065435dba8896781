"""Certificates of attendance: issued once to every member who attended a completed
training (each announced after their check-in, on the same registration), checked by
their code, printed as PDF."""

from __future__ import annotations

from typing import Any

from services.events import documents
from services.events.announcements import registrant, summary
from services.events.catalogue import MESSAGES
from services.events.programme import iso, stamp
from services.events.reach import PRODUCER, Deps
from services.events.records import EventDoc, RegistrationDoc
from services.events.registrants import new_certificate_code, normalise_code
from shared.clock import now_utc
from shared.contracts import CertificateIssued, new_event
from shared.errors import Conflict, NotFound
from shared.identity import Identity
from shared.settings import Settings


class NotATraining(Conflict):
    code, title = "not-a-training", MESSAGES("events.not_a_training")


class Certificates:
    def __init__(self, deps: Deps, settings: Settings) -> None:
        self.deps = deps
        self.font = settings.events_certificate_font
        self.federation = settings.federation_name  # the fallback before a tree exists

    async def issue(self, who: Identity, event_id: str, correlation_id: str | None) -> dict[str, int]:
        """A certificate for every member who attended a completed training (once each)."""
        event = await self.deps.event_for(who, event_id)
        if event["kind"] != "training" or event["status"] != "completed":
            raise NotATraining(kind=event["kind"], event_status=event["status"])
        hours = float(event.get("training_hours") or round((event["last_end"] - event["first_start"]) / 3600, 1))
        issued = already = 0
        for reg in await self.deps.regs.page(
            {"event_id": event_id, "status": "confirmed", "attended": 1}, order="created_epoch"
        ):
            if not reg.get("member_id"):
                continue
            if reg.get("certificate_code") or not await self._issue_one(event, reg, hours, correlation_id):
                already += 1
            else:
                issued += 1
        return {"issued": issued, "already_issued": already}

    async def _issue_one(self, event: EventDoc, reg: RegistrationDoc, hours: float, correlation_id: str | None) -> bool:
        code = new_certificate_code()
        envelope = new_event(
            CertificateIssued(
                event=summary(event, self.deps.links),
                registrant=registrant(reg),
                certificate_code=code,
                hours=hours,
                verify_url=self.deps.links.verify(code),
                pdf_url=self.deps.links.certificate_pdf(code),
            ),
            producer=PRODUCER,
            correlation_id=correlation_id,
        )
        fields = {"certificate_code": code, "certificate_hours": hours, "certificate_issued_at": stamp(now_utc())}
        done = await self.deps.regs.change(
            {"_id": reg["_id"], "certificate_code": {"$exists": False}}, {"$set": fields}, envelope, fields={"_id": 1}
        )
        return done is not None

    async def check(self, code: str) -> dict[str, Any]:
        reg, event = await self._certificate(code)
        organizer = (await self.deps.names([event["organizer_id"]])).get(event["organizer_id"]) or {}
        return {
            "valid": True,
            "certificate_code": reg["certificate_code"],
            "full_name": reg["full_name"],
            "event_title": event["title"],
            "kind": event["kind"],
            "hours": reg["certificate_hours"],
            "issued_at": iso(reg["certificate_issued_at"]),
            "starts_at": iso(event["starts_at"]),
            "ends_at": iso(event["ends_at"]),
            "organizer": {"id": event["organizer_id"], "code": organizer.get("code"), "name": organizer.get("name")},
            "pdf_url": self.deps.links.certificate_pdf(reg["certificate_code"]),
        }

    async def pdf(self, code: str) -> tuple[bytes, str]:
        """The PDF and its file name."""
        reg, event = await self._certificate(code)
        organizer = (await self.deps.names([event["organizer_id"]])).get(event["organizer_id"]) or {}
        body = documents.certificate_pdf(
            reg,
            event,
            font_path=self.font,
            verify_url=self.deps.links.verify(reg["certificate_code"]),
            federation=await self.deps.orgs.federation_name() or self.federation,
            organizer_name=organizer.get("name"),
        )
        return body, f"{reg['certificate_code']}.pdf"

    async def _certificate(self, code: str) -> tuple[RegistrationDoc, EventDoc]:
        reg = await self.deps.regs.one({"certificate_code": normalise_code(code)})
        if reg is None:
            raise NotFound(MESSAGES("events.no_certificate"), certificate_code=code)
        return reg, await self.deps.event(reg["event_id"])
