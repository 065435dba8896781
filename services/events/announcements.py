"""What the events service tells the world: links in messages and the contract
payloads (event summary, registrant) built from stored documents."""

from __future__ import annotations

from dataclasses import dataclass

from services.events.records import EventDoc, RegistrationDoc
from shared.clock import parse_moment
from shared.contracts import EventSummary, Registrant
from shared.settings import Settings
from shared.tokens import InvalidToken, Signer

CANCEL_PURPOSE = "events:registration-cancel"
CALENDAR_PURPOSE = "events:calendar-feed"


@dataclass(frozen=True)
class Links:
    """Public links put in messages (through the gateway's /api/v1)."""

    base: str
    cancelling: Signer
    calendars: Signer

    @classmethod
    def from_settings(cls, settings: Settings) -> Links:
        return cls(
            settings.public_base_url.rstrip("/") + "/api/v1",
            settings.signer(CANCEL_PURPOSE, mac_bytes=18),  # links in emails: a shorter mac (144 bits)
            settings.signer(CALENDAR_PURPOSE, mac_bytes=18),
        )

    def cancel_token(self, registration_id: str) -> str:
        return self.cancelling.sign({"r": registration_id})

    def calendar_token(self, member_id: str) -> str:
        return self.calendars.sign({"m": member_id})

    def cancel_token_ok(self, registration_id: str, token: str) -> bool:
        return _carries(self.cancelling, token, "r", registration_id)

    def calendar_token_ok(self, member_id: str, token: str) -> bool:
        return _carries(self.calendars, token, "m", member_id)

    def cancel(self, registration_id: str) -> str:
        return f"{self.base}/registrations/{registration_id}/cancel?token={self.cancel_token(registration_id)}"

    def qr(self, ticket_code: str) -> str:
        return f"{self.base}/tickets/{ticket_code}/qr.png"

    def event_ics(self, event_id: str) -> str:
        return f"{self.base}/events/{event_id}/calendar.ics"

    def member_feed(self, member_id: str) -> str:
        return f"{self.base}/calendars/{member_id}/feed.ics?token={self.calendar_token(member_id)}"

    def calendar_for(self, registration: RegistrationDoc) -> str:
        member_id = registration.get("member_id")
        return self.member_feed(member_id) if member_id else self.event_ics(registration["event_id"])

    def verify(self, certificate_code: str) -> str:
        return f"{self.base}/certificates/{certificate_code}"

    def certificate_pdf(self, certificate_code: str) -> str:
        return f"{self.base}/certificates/{certificate_code}/pdf"


def _carries(signer: Signer, token: str, claim: str, value: str) -> bool:
    try:
        return signer.verify(token).get(claim) == value
    except InvalidToken:
        return False


def summary(event: EventDoc, links: Links, organizer_name: str | None = None) -> EventSummary:
    return EventSummary(
        event_id=event["_id"],
        kind=event["kind"],
        title_vi=event["title"]["vi"],
        title_en=event["title"].get("en"),
        starts_at=parse_moment(event["starts_at"]),
        ends_at=parse_moment(event["ends_at"]),
        venue=event.get("venue"),
        online_url=event.get("online_url"),
        organizer_id=event.get("organizer_id"),
        organizer_name=organizer_name or event.get("organizer_name"),
        url=links.event_ics(event["_id"]),
    )


def registrant(reg: RegistrationDoc) -> Registrant:
    return Registrant(
        registration_id=reg["_id"],
        member_id=reg.get("member_id"),
        full_name=reg["full_name"],
        email=reg.get("email"),
        phone=reg.get("phone"),
        language=reg.get("language") or "vi",
        registered_by=reg.get("registered_by"),
    )
