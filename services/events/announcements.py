"""What the events service tells the world: links in messages and the contract
payloads (event summary, registrant) built from stored documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.events.clock import from_text
from services.events.registrants import sign
from shared.contracts import EventSummary, Registrant
from shared.settings import Settings

CANCEL_PURPOSE = "events:registration-cancel"
CALENDAR_PURPOSE = "events:calendar-feed"


@dataclass(frozen=True)
class Links:
    """Public links put in messages (through the gateway's /api/v1)."""

    base: str
    cancel_secret: bytes
    calendar_secret: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        return cls(
            settings.public_base_url.rstrip("/") + "/api/v1",
            settings.derived_secret(CANCEL_PURPOSE),
            settings.derived_secret(CALENDAR_PURPOSE),
        )

    def cancel_token(self, registration_id: str) -> str:
        return sign(self.cancel_secret, registration_id)

    def calendar_token(self, member_id: str) -> str:
        return sign(self.calendar_secret, member_id)

    def cancel(self, registration_id: str) -> str:
        return f"{self.base}/registrations/{registration_id}/cancel?token={self.cancel_token(registration_id)}"

    def qr(self, ticket_code: str) -> str:
        return f"{self.base}/tickets/{ticket_code}/qr.png"

    def event_ics(self, event_id: str) -> str:
        return f"{self.base}/events/{event_id}/calendar.ics"

    def member_feed(self, member_id: str) -> str:
        return f"{self.base}/calendars/{member_id}/feed.ics?token={self.calendar_token(member_id)}"

    def calendar_for(self, registration: dict[str, Any]) -> str:
        member_id = registration.get("member_id")
        return self.member_feed(member_id) if member_id else self.event_ics(registration["event_id"])

    def verify(self, certificate_code: str) -> str:
        return f"{self.base}/certificates/{certificate_code}"

    def certificate_pdf(self, certificate_code: str) -> str:
        return f"{self.base}/certificates/{certificate_code}/pdf"


def summary(event: dict[str, Any], links: Links, organizer_name: str | None = None) -> EventSummary:
    return EventSummary(
        event_id=event["_id"],
        kind=event["kind"],
        title_vi=event["title"]["vi"],
        title_en=event["title"].get("en"),
        starts_at=from_text(event["starts_at"]),
        ends_at=from_text(event["ends_at"]),
        venue=event.get("venue"),
        online_url=event.get("online_url"),
        organizer_id=event.get("organizer_id"),
        organizer_name=organizer_name or event.get("organizer_name"),
        url=links.event_ics(event["_id"]),
    )


def registrant(reg: dict[str, Any]) -> Registrant:
    return Registrant(
        registration_id=reg["_id"],
        member_id=reg.get("member_id"),
        full_name=reg["full_name"],
        email=reg.get("email"),
        phone=reg.get("phone"),
        language=reg.get("language") or "vi",
    )
