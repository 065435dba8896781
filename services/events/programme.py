"""What a valid event is: kind, bilingual text, organisers, place, programme of
sessions, capacity, registration window, audience, training hours; and how its
lifecycle moves (draft → published → registration_closed → completed, or cancelled).

Pure models and functions, no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from services.events.catalogue import text
from services.events.clock import as_utc, from_text, local_text, to_text
from shared.http import Conflict, DomainError
from shared.mongo import epoch

Kind = Literal["seminar", "training", "conference"]
Status = Literal["draft", "published", "registration_closed", "completed", "cancelled"]
ACTIVE = ("published", "registration_closed")  # seats can still move between people
MAX_SESSIONS = 50


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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


# --- documents -------------------------------------------------------------------


def session_docs(sessions: list[SessionIn]) -> dict[str, dict[str, Any]]:
    """Sessions as a map keyed by a short id (s1, s2… in time order): never an array of sub-documents."""
    ordered = sorted(sessions, key=lambda s: s.starts_at)
    return {
        f"s{i}": {
            "order": i,
            "starts_at": to_text(s.starts_at),
            "ends_at": to_text(s.ends_at),
            "title": s.title.model_dump() if s.title else None,
            "room": s.room,
        }
        for i, s in enumerate(ordered, start=1)
    }


def timing_fields(sessions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The derived fields queries and reminders use: first start and last end, as text and epoch."""
    first = min(from_text(s["starts_at"]) for s in sessions.values())
    last = max(from_text(s["ends_at"]) for s in sessions.values())
    return {"starts_at": to_text(first), "ends_at": to_text(last), "first_start": epoch(first), "last_end": epoch(last)}


def window_fields(opens: datetime | None, closes: datetime | None) -> dict[str, Any]:
    return {
        "registration_opens_at": to_text(opens) if opens else None,
        "registration_closes_at": to_text(closes) if closes else None,
        "opens_epoch": epoch(opens) if opens else None,
        "closes_epoch": epoch(closes) if closes else None,
    }


def ordered_sessions(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted((doc.get("sessions") or {}).items(), key=lambda kv: kv[1]["order"])


# --- lifecycle -------------------------------------------------------------------


class InvalidTransition(Conflict):
    code, title = "invalid-transition", "The event cannot move to that state"


class RegistrationNotOpen(DomainError):
    status, code, title = 409, "registration-not-open", "The event does not take registrations now"


class EventFinished(Conflict):
    code, title = "event-finished", "The event is completed or cancelled"


TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "publish": {"from": ("draft", "registration_closed"), "to": ("published",)},
    "close_registration": {"from": ("published",), "to": ("registration_closed",)},
    "complete": {"from": ("published", "registration_closed"), "to": ("completed",)},
    "cancel": {"from": ("draft", "published", "registration_closed"), "to": ("cancelled",)},
}


def next_status(current: str, action: str) -> str:
    rule = TRANSITIONS[action]
    if current not in rule["from"]:
        raise InvalidTransition(
            f"An event that is {current} cannot {action.replace('_', ' ')}",
            event_status=current,
            allowed_from=list(rule["from"]),
        )
    return rule["to"][0]


def ensure_editable(status: str) -> None:
    if status in ("completed", "cancelled"):
        raise EventFinished(f"A {status} event cannot be changed", event_status=status)


def ensure_registration_open(doc: dict[str, Any], now: float, language: str = "vi") -> None:
    """Only published events take registrations, and only inside their window."""
    status = doc["status"]
    if status != "published":
        raise RegistrationNotOpen(
            text("not_open.status", language, status=status), reason="status", event_status=status
        )
    opens, closes = doc.get("opens_epoch"), doc.get("closes_epoch")
    if opens is not None and now < opens:
        raise RegistrationNotOpen(
            text("not_open.early", language, when=local_text(doc["registration_opens_at"])),
            reason="not_yet_open",
            opens_at=doc["registration_opens_at"],
        )
    if closes is not None and now >= closes:
        raise RegistrationNotOpen(
            text("not_open.late", language, when=local_text(doc["registration_closes_at"])),
            reason="closed",
            closed_at=doc["registration_closes_at"],
        )
    if now >= doc["last_end"]:
        raise RegistrationNotOpen(text("not_open.late", language, when=local_text(doc["ends_at"])), reason="event_over")


def registration_open(doc: dict[str, Any], now: float) -> bool:
    try:
        ensure_registration_open(doc, now)
    except RegistrationNotOpen:
        return False
    return True


def current_session(doc: dict[str, Any], now: float, early_seconds: float = 2 * 3600) -> str:
    """The session a check-in at `now` is for: the one under way (or starting within two
    hours), else the next one, else the last."""
    sessions = ordered_sessions(doc)
    for sid, s in sessions:
        if epoch(from_text(s["starts_at"])) - early_seconds <= now <= epoch(from_text(s["ends_at"])):
            return sid
    for sid, s in sessions:
        if now < epoch(from_text(s["starts_at"])):
            return sid
    return sessions[-1][0]
