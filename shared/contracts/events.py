"""Events the events service publishes. Each carries what notifications needs to
write to the person without asking anyone: name, contact, language, the event's
title, times and venue, and the ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventData, contract
from shared.contracts.types import Language

__all__ = [
    "AttendanceCheckedIn",
    "CertificateIssued",
    "EventCancelled",
    "EventPublished",
    "EventReminderDue",
    "EventSummary",
    "EventUpdated",
    "Registrant",
    "RegistrationCancelled",
    "RegistrationConfirmed",
    "RegistrationEvent",
    "RegistrationPromoted",
    "RegistrationWaitlisted",
]


class EventSummary(BaseModel):
    """An event as a message about it needs it."""

    model_config = ConfigDict(extra="ignore")
    event_id: str
    kind: Literal["seminar", "training", "conference"]
    title_vi: str
    title_en: str | None = None
    starts_at: datetime = Field(description="First session start, UTC")
    ends_at: datetime = Field(description="Last session end, UTC")
    venue: str | None = None
    online_url: str | None = None
    organizer_id: str | None = None
    organizer_name: str | None = None
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Zone the times are shown in")
    url: str | None = Field(None, description="Calendar (.ics) link of the event")


class Registrant(BaseModel):
    """Who registered: a member (by id) or a guest."""

    model_config = ConfigDict(extra="ignore")
    registration_id: str
    member_id: str | None = None
    full_name: str
    email: str | None = None
    phone: str | None = None
    language: Language = "vi"
    registered_by: str | None = Field(
        None,
        description="Who made the registration: `key:<prefix>` for a partner key, `staff:<username>` for staff "
        "(partners' webhooks show the person only to the key that registered them).",
    )


@contract("event.published")
class EventPublished(EventData):
    """An event opened to the public (or its audience)."""

    event: EventSummary
    capacity: int | None = None


@contract("event.updated")
class EventUpdated(EventData):
    """An event's details changed (times, venue, capacity…)."""

    event: EventSummary
    changed: list[str] = []
    previous: EventSummary | None = Field(
        None, description="The event as it was, when its date, times, venue, link or title changed (tell registrants)"
    )
    registrants: list[Registrant] = Field(
        default_factory=list,
        description="Who holds a place (optional: without it, notifications tells the registrants it knows of)",
    )


@contract("event.cancelled")
class EventCancelled(EventData):
    """An event was cancelled; every registrant hears of it."""

    event: EventSummary
    reason: str | None = None
    registrants: list[Registrant] = []


class RegistrationEvent(EventData):
    event: EventSummary
    registrant: Registrant


@contract("registration.confirmed")
class RegistrationConfirmed(RegistrationEvent):
    """A seat is held: the ticket code (and its QR image URL) go to the person."""

    ticket_code: str
    qr_url: str | None = None
    cancel_url: str | None = None
    calendar_url: str | None = None


@contract("registration.waitlisted")
class RegistrationWaitlisted(RegistrationEvent):
    """The event is full: the person is on the waiting list at `position`."""

    position: int
    cancel_url: str | None = None


@contract("registration.promoted")
class RegistrationPromoted(RegistrationEvent):
    """A seat came free and went to this person from the waiting list."""

    ticket_code: str
    qr_url: str | None = None
    cancel_url: str | None = None
    calendar_url: str | None = None


@contract("registration.cancelled")
class RegistrationCancelled(RegistrationEvent):
    """A registration was cancelled, by the person, a partner or staff."""

    cancelled_by: Literal["registrant", "partner", "staff", "event_cancelled"] = "registrant"


@contract("event.reminder_due")
class EventReminderDue(RegistrationEvent):
    """A reminder is due before the event (e.g. 24 hours and 2 hours before)."""

    reminder: str = Field(description="Which reminder, e.g. '24h' or '2h'")
    ticket_code: str | None = None
    qr_url: str | None = None
    cancel_url: str | None = None


@contract("attendance.checked_in")
class AttendanceCheckedIn(RegistrationEvent):
    """A ticket was checked in at the door."""

    ticket_code: str
    session_id: str | None = None
    checked_in_at: datetime


@contract("certificate.issued")
class CertificateIssued(RegistrationEvent):
    """A certificate of attendance was issued for a training."""

    certificate_code: str
    hours: float
    verify_url: str | None = None
    pdf_url: str | None = None
