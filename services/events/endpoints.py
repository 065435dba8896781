"""The events service's endpoint declarations, with their request and response models:
the one module of the service the gateway imports (to route, validate and document
requests). Nothing here reads the store or decides: handlers are bound in api.py.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, field_validator, model_validator

from shared import parking
from shared.api import Api
from shared.clock import as_utc
from shared.text import normalise_phone

api = Api("events")
Kind = Literal["seminar", "training", "conference"]
Status = Literal["draft", "published", "registration_closed", "completed", "cancelled"]
RegistrationStatus = Literal["confirmed", "waitlisted", "cancelled"]
MAX_SESSIONS = 50
MAX_OFFSET = 1_000_000
BINARY = {"type": "string", "format": "binary"}
CALENDAR = {"text/calendar": {"type": "string"}}
TABLES = {"text/csv": {"type": "string"}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": BINARY}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- what an event is (input) -------------------------------------------------------------


class Text(Strict):
    """Bilingual text: Vietnamese required, English optional."""

    vi: str = Field(min_length=1, max_length=500)
    en: str | None = Field(None, max_length=500)


class LongText(Strict):
    vi: str = Field(min_length=1, max_length=20_000)
    en: str | None = Field(None, max_length=20_000)


class SessionIn(Strict):
    """One session of the programme. Times with a zone are taken as given; times without
    one are read as Asia/Ho_Chi_Minh (what staff mean); both are stored in UTC."""

    title: Text | None = None
    starts_at: datetime
    ends_at: datetime
    room: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _order(self) -> SessionIn:
        # Whole seconds: what calendars and people deal in.
        self.starts_at = as_utc(self.starts_at).replace(microsecond=0)
        self.ends_at = as_utc(self.ends_at).replace(microsecond=0)
        if self.ends_at <= self.starts_at:
            raise ValueError("a session must end after it starts")
        return self


class AudienceIn(Strict):
    kind: Literal["public", "members", "organizations"] = "public"
    organization_ids: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Organisations (ids or codes) whose members may register, for kind `organizations`",
    )

    @model_validator(mode="after")
    def _listed(self) -> AudienceIn:
        if self.kind == "organizations" and not self.organization_ids:
            raise ValueError("list the organisations whose members may register")
        if self.kind != "organizations" and self.organization_ids:
            raise ValueError("organization_ids only go with audience kind `organizations`")
        return self


class EventFields(Strict):
    """Fields an event has; EventIn requires some, EventPatch none."""

    title: Text | None = None
    description: LongText | None = None
    co_organizers: list[str] | None = Field(None, max_length=20, description="Organisations by id or code")
    venue: str | None = Field(None, max_length=500)
    online_url: HttpUrl | None = None
    sessions: list[SessionIn] | None = Field(None, min_length=1, max_length=MAX_SESSIONS)
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    audience: AudienceIn | None = None
    training_hours: float | None = Field(
        None, gt=0, le=1000, description="Hours that count toward a member's training record (trainings only)"
    )

    @field_validator("registration_opens_at", "registration_closes_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value).replace(microsecond=0) if value else None


class EventIn(EventFields):
    """A new event (it starts as a draft)."""

    kind: Kind
    title: Text
    organizer: str = Field(min_length=1, max_length=64, description="Organising organisation, by id or code")
    sessions: list[SessionIn] = Field(min_length=1, max_length=MAX_SESSIONS)
    capacity: int = Field(ge=1, le=100_000)
    audience: AudienceIn = AudienceIn()

    @model_validator(mode="after")
    def _whole(self) -> EventIn:
        check_place(self.venue, self.online_url)
        check_hours(self.kind, self.training_hours)
        check_window(self.registration_opens_at, self.registration_closes_at, self.sessions)
        return self


class EventPatch(EventFields):
    """Changes to an event; capacity changes through its own endpoint."""


def check_place(venue: str | None, online_url: Any) -> None:
    if not venue and not online_url:
        raise ValueError("give a venue, an online link, or both")


def check_hours(kind: str, hours: float | None) -> None:
    if hours is not None and kind != "training":
        raise ValueError("training_hours only go with trainings")


def check_window(opens: datetime | None, closes: datetime | None, sessions: list[SessionIn] | None) -> None:
    if opens and closes and closes <= opens:
        raise ValueError("registration must close after it opens")
    if closes and sessions and closes > max(s.ends_at for s in sessions):
        raise ValueError("registration must close before the last session ends")


# --- who registers (input) ----------------------------------------------------------------


class GuestIn(Strict):
    full_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32)
    language: Literal["vi", "en"] = "vi"

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str) -> str:
        name = " ".join(unicodedata.normalize("NFC", value).split())
        if not name:
            raise ValueError("full name is empty")
        return name

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        return normalise_phone(value)  # InvalidPhone: a 422 in the caller's language (shared.errors)

    @model_validator(mode="after")
    def _reachable(self) -> GuestIn:
        if not self.email and not self.phone:
            raise ValueError("give an email address or a phone number so we can send the ticket")
        return self


class RegistrationIn(Strict):
    """A member (by id) or a guest registers."""

    member_id: str | None = Field(None, min_length=1, max_length=64)
    guest: GuestIn | None = None

    @model_validator(mode="after")
    def _one(self) -> RegistrationIn:
        if (self.member_id is None) == (self.guest is None):
            raise ValueError("give either member_id or guest, not both")
        return self


# --- queries and small bodies --------------------------------------------------------------


class EventQuery(Strict):
    status: Status | None = None
    kind: Kind | None = None
    organizer: str | None = Field(None, max_length=64, description="Organisation id or code")
    upcoming: bool = Field(False, description="Only events that have not ended")
    starts_from: datetime | None = Field(None, description="Only events whose first session starts at or after this")
    starts_before: datetime | None = Field(None, description="Only events whose first session starts before this")
    q: str | None = Field(None, max_length=100, description="Words of the title, beginnings enough, any accents")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)

    @field_validator("starts_from", "starts_before")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value) if value else None


class CancelEventIn(Strict):
    reason: str | None = Field(None, max_length=1000, description="Told to every registrant")


class CapacityIn(Strict):
    capacity: int = Field(ge=1, le=100_000)


class RegistrationQuery(Strict):
    status: RegistrationStatus | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class MemberRegistrationQuery(Strict):
    status: RegistrationStatus | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class TokenQuery(Strict):
    token: str = Field(min_length=8, max_length=128, description="The signed token from the link")


class CheckInIn(Strict):
    ticket_code: str = Field(min_length=4, max_length=64)
    session_id: str | None = Field(None, max_length=16, description="Default: the session under way now")


class ExportQuery(Strict):
    format: Literal["csv", "xlsx"] = "xlsx"


# --- answers ---------------------------------------------------------------------------------


class OrgRef(BaseModel):
    id: str
    code: str | None = None
    name: str | None = None


class SessionOut(BaseModel):
    id: str
    title: dict | None = None
    room: str | None = None
    starts_at: datetime
    ends_at: datetime
    starts_at_local: datetime
    ends_at_local: datetime


class EventOut(BaseModel):
    id: str
    kind: Kind
    kind_label: str
    title: dict
    description: dict | None = None
    organizer: OrgRef
    co_organizers: list[OrgRef]
    venue: str | None = None
    online_url: str | None = None
    sessions: list[SessionOut]
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int
    confirmed: int
    waiting: int
    seats_free: int
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    registration_open: bool
    audience: dict
    training_hours: float | None = None
    status: Status
    cancel_reason: str | None = None


class EventPage(BaseModel):
    items: list[EventOut]
    next_offset: int | None = None


class RegistrationOut(BaseModel):
    id: str
    event_id: str
    status: RegistrationStatus
    kind: Literal["member", "guest"] | None = None
    member_id: str | None = None
    full_name: str | None = None
    email: str | None = Field(None, description="Only to callers who may read the person's contact details")
    phone: str | None = Field(None, description="Only to callers who may read the person's contact details")
    language: str = "vi"
    ticket_code: str | None = Field(None, description="For confirmed registrations")
    position: int | None = Field(None, description="Place on the waiting list, for waitlisted registrations")
    qr_url: str | None = None
    cancel_url: str | None = None
    checkins: dict[str, str] = {}
    cancelled_at: str | None = None
    cancelled_by: str | None = None
    certificate_code: str | None = None


class RegistrationPage(BaseModel):
    items: list[RegistrationOut]
    next_offset: int | None = None


class RegistrantView(BaseModel):
    registration: RegistrationOut
    event: EventOut


class CheckInOut(BaseModel):
    registration: RegistrationOut
    session_id: str
    checked_in_at: datetime
    checked_in_at_local: str


class SessionCount(BaseModel):
    session_id: str
    starts_at: datetime
    checked_in: int


class AttendanceOut(BaseModel):
    event_id: str
    confirmed: int
    attended: int
    sessions: list[SessionCount]
    people: list[RegistrationOut]


class IssueResult(BaseModel):
    issued: int
    already_issued: int


class CertificateCheck(BaseModel):
    valid: bool
    certificate_code: str
    full_name: str
    event_title: dict
    kind: str
    hours: float
    issued_at: datetime
    starts_at: datetime
    ends_at: datetime
    organizer: OrgRef
    pdf_url: str


def page_of(items: list[Any], offset: int, limit: int) -> dict[str, Any]:
    return {"items": items, "next_offset": offset + limit if len(items) == limit else None}


# --- events -------------------------------------------------------------------------------------

create_event = api.endpoint(
    "create_event",
    "POST",
    "/events",
    summary="Create an event (as a draft)",
    body=EventIn,
    response=EventOut,
    status=201,
    scope="events:write",
    errors=(403,),
)
list_events = api.endpoint(
    "list_events",
    "GET",
    "/events",
    summary="Events, soonest first (managers and bound keys: their organisations' only)",
    query=EventQuery,
    response=EventPage,
    scope="events:read",
)
# Declared before /events/{event_id}: the service's router matches in declaration order.
list_parked = api.endpoint("list_parked", "GET", "/events/parked-messages", **parking.LIST)
replay_parked = api.endpoint("replay_parked", "POST", "/events/parked-messages/{consumer}/replay", **parking.REPLAY)
get_event = api.endpoint(
    "get_event", "GET", "/events/{event_id}", summary="One event", response=EventOut, scope="events:read", errors=(404,)
)
update_event = api.endpoint(
    "update_event",
    "PATCH",
    "/events/{event_id}",
    summary="Change an event (registrants hear of published changes)",
    body=EventPatch,
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
publish_event = api.endpoint(
    "publish_event",
    "POST",
    "/events/{event_id}/publish",
    summary="Publish an event: it takes registrations inside its window",
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
close_registration_event = api.endpoint(
    "close_registration_event",
    "POST",
    "/events/{event_id}/close-registration",
    summary="Stop taking registrations (cancellations still promote from the waiting list)",
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
complete_event = api.endpoint(
    "complete_event",
    "POST",
    "/events/{event_id}/complete",
    summary="Mark an event completed (trainings can then issue certificates)",
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
cancel_event = api.endpoint(
    "cancel_event",
    "POST",
    "/events/{event_id}/cancel",
    summary="Cancel an event; every registrant is told",
    body=CancelEventIn,
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
set_capacity = api.endpoint(
    "set_capacity",
    "PUT",
    "/events/{event_id}/capacity",
    summary="Change capacity: raising it promotes from the waiting list; it cannot fall below the confirmed seats",
    body=CapacityIn,
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
event_calendar = api.endpoint(
    "event_calendar",
    "GET",
    "/events/{event_id}/calendar.ics",
    summary="The event as an iCalendar file",
    public=True,
    response_media=CALENDAR,
    errors=(404,),
)

# --- registrations ------------------------------------------------------------------------------

register = api.endpoint(
    "register",
    "POST",
    "/events/{event_id}/registrations",
    summary="Register a member or a guest: confirmed with a ticket, or waitlisted with a position",
    description="Send an `Idempotency-Key` header to retry safely: a repeated key returns the first "
    "answer (with `Idempotency-Replayed: true`) instead of registering again. A member is registered by id "
    "only within the caller's reach.",
    body=RegistrationIn,
    response=RegistrationOut,
    status=201,
    also_statuses=(200,),
    scope="registrations:write",
    errors=(403, 404, 409),
)
list_registrations = api.endpoint(
    "list_registrations",
    "GET",
    "/events/{event_id}/registrations",
    summary="Registrations of an event, in order",
    query=RegistrationQuery,
    response=RegistrationPage,
    scope="registrations:write",
    errors=(404,),
)
member_registrations = api.endpoint(
    "member_registrations",
    "GET",
    "/events/members/{member_id}/registrations",
    summary="A member's registrations, newest first (events within the caller's reach)",
    query=MemberRegistrationQuery,
    response=RegistrationPage,
    scope="registrations:write",
    errors=(404,),
)
get_registration = api.endpoint(
    "get_registration",
    "GET",
    "/registrations/{registration_id}",
    summary="One registration (with its waiting-list place)",
    response=RegistrationOut,
    scope="registrations:write",
    errors=(404,),
)
cancel_registration = api.endpoint(
    "cancel_registration",
    "DELETE",
    "/registrations/{registration_id}",
    summary="Cancel a registration (partner on the person's behalf, or staff); the seat goes to the "
    "waiting list at once",
    response=RegistrationOut,
    scope="registrations:write",
    errors=(404, 409),
)
show_by_link = api.endpoint(
    "show_by_link",
    "GET",
    "/registrations/{registration_id}/cancel",
    summary="What the signed link in the confirmation would cancel (POST to the same link cancels)",
    query=TokenQuery,
    response=RegistrantView,
    public=True,
    errors=(403, 404),
)
cancel_by_link = api.endpoint(
    "cancel_by_link",
    "POST",
    "/registrations/{registration_id}/cancel",
    summary="Cancel through the signed link in the confirmation",
    query=TokenQuery,
    response=RegistrationOut,
    public=True,
    errors=(403, 404, 409),
)

# --- at the door --------------------------------------------------------------------------------

ticket_qr_png = api.endpoint(
    "ticket_qr_png",
    "GET",
    "/tickets/{ticket_code}/qr.png",
    summary="The ticket's QR code (PNG), for emails and phones",
    public=True,
    response_media={"image/png": BINARY},
    errors=(404,),
)
ticket_qr_svg = api.endpoint(
    "ticket_qr_svg",
    "GET",
    "/tickets/{ticket_code}/qr.svg",
    summary="The ticket's QR code (SVG), for emails and phones",
    public=True,
    response_media={"image/svg+xml": {"type": "string"}},
    errors=(404,),
)
check_in = api.endpoint(
    "check_in",
    "POST",
    "/checkins",
    summary="Check a ticket in at the door (once per session; events within the caller's reach)",
    body=CheckInIn,
    response=CheckInOut,
    scope="registrations:write",
    errors=(404, 409),
)
attendance = api.endpoint(
    "attendance",
    "GET",
    "/events/{event_id}/attendance",
    summary="Who came, and counts per session",
    response=AttendanceOut,
    scope="registrations:write",
    errors=(404,),
)
export_registrations = api.endpoint(
    "export_registrations",
    "GET",
    "/events/{event_id}/registrations/export",
    summary="Export registrations as CSV or XLSX",
    query=ExportQuery,
    scope="registrations:write",
    errors=(404,),
    response_media=TABLES,
)
export_attendance = api.endpoint(
    "export_attendance",
    "GET",
    "/events/{event_id}/attendance/export",
    summary="Export attendance as CSV or XLSX",
    query=ExportQuery,
    scope="registrations:write",
    errors=(404,),
    response_media=TABLES,
)

# --- certificates and calendars -----------------------------------------------------------------

issue_certificates = api.endpoint(
    "issue_certificates",
    "POST",
    "/events/{event_id}/certificates",
    summary="Issue certificates to every member who attended a completed training (once each)",
    response=IssueResult,
    scope="events:write",
    errors=(404, 409),
)
verify_certificate = api.endpoint(
    "verify_certificate",
    "GET",
    "/certificates/{certificate_code}",
    summary="Check a certificate's verification code",
    response=CertificateCheck,
    public=True,
    errors=(404,),
)
certificate_pdf = api.endpoint(
    "certificate_pdf",
    "GET",
    "/certificates/{certificate_code}/pdf",
    summary="The certificate as PDF",
    public=True,
    response_media={"application/pdf": BINARY},
    errors=(404,),
)
member_feed = api.endpoint(
    "member_feed",
    "GET",
    "/calendars/{member_id}/feed.ics",
    summary="A member's calendar of confirmed events (the link in their emails)",
    query=TokenQuery,
    public=True,
    response_media=CALENDAR,
    errors=(403,),
)
