"""What a valid event is and how its lifecycle moves (draft → published →
registration_closed → completed, or cancelled): the programme of sessions, the
registration window, and the errors these rules raise.

Pure models and functions, no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.events.catalogue import MESSAGES
from services.events.endpoints import (
    EventIn,
    EventPatch,
    Kind,
    SessionIn,
    Status,
    check_hours,
    check_place,
    check_window,
)
from services.events.records import EventDoc, SessionDoc
from shared.clock import as_utc, epoch, local_time_text, parse_moment, to_millis
from shared.errors import Conflict, DomainError, FieldError, Invalid

__all__ = ["ACTIVE", "EventIn", "EventPatch", "Kind", "SessionIn", "Status"]
ACTIVE = ("published", "registration_closed")  # seats can still move between people
VISIBLE = ("published", "registration_closed", "completed", "cancelled")  # drafts: staff only


def stamp(moment: datetime) -> datetime:
    """How events stores a moment: a BSON datetime in UTC (milliseconds, what BSON keeps).
    Documents written before hold ISO text; `parse_moment` reads either."""
    return to_millis(as_utc(moment))


def iso(value: Any) -> str | None:
    """A stored moment as answers show it: ISO 8601 in UTC with a Z."""
    if not value:
        return None
    return parse_moment(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def stored_moment(doc: Any, field: str) -> datetime | None:
    value = doc.get(field)
    return parse_moment(value) if value else None


# --- documents -------------------------------------------------------------------


def session_docs(sessions: list[SessionIn]) -> dict[str, SessionDoc]:
    """Sessions as a map keyed by a short id (s1, s2… in time order): never an array of sub-documents."""
    ordered = sorted(sessions, key=lambda s: s.starts_at)
    return {
        f"s{i}": {
            "order": i,
            "starts_at": stamp(s.starts_at),
            "ends_at": stamp(s.ends_at),
            "title": s.title.model_dump() if s.title else None,  # type: ignore[typeddict-item]
            "room": s.room,
        }
        for i, s in enumerate(ordered, start=1)
    }


def timing_fields(sessions: dict[str, SessionDoc]) -> dict[str, Any]:
    """The derived fields queries and reminders use: first start and last end, as text and epoch."""
    first = min(parse_moment(s["starts_at"]) for s in sessions.values())
    last = max(parse_moment(s["ends_at"]) for s in sessions.values())
    return {"starts_at": stamp(first), "ends_at": stamp(last), "first_start": epoch(first), "last_end": epoch(last)}


def window_fields(opens: datetime | None, closes: datetime | None) -> dict[str, Any]:
    return {
        "registration_opens_at": stamp(opens) if opens else None,
        "registration_closes_at": stamp(closes) if closes else None,
        "opens_epoch": epoch(opens) if opens else None,
        "closes_epoch": epoch(closes) if closes else None,
    }


def ordered_sessions(doc: EventDoc | dict[str, Any]) -> list[tuple[str, SessionDoc]]:
    return sorted((doc.get("sessions") or {}).items(), key=lambda kv: kv[1]["order"])


def check_whole(merged: dict[str, Any]) -> None:
    """An event after a change is still a valid event (422 naming what is wrong)."""
    if merged.get("title") is None:
        raise Invalid(FieldError("title", MESSAGES("events.title_required"), "value_error"))
    try:
        check_place(merged.get("venue"), merged.get("online_url"))
        check_hours(merged["kind"], merged.get("training_hours"))
        check_window(
            stored_moment(merged, "registration_opens_at"),
            stored_moment(merged, "registration_closes_at"),
            [SessionIn(starts_at=s["starts_at"], ends_at=s["ends_at"]) for s in merged["sessions"].values()],
        )
    except ValueError as exc:
        raise Invalid(FieldError("body", str(exc), "value_error")) from None


# --- lifecycle -------------------------------------------------------------------


class InvalidTransition(Conflict):
    code, title = "invalid-transition", MESSAGES("events.invalid_transition")


class RegistrationNotOpen(DomainError):
    status, code, title = 409, "registration-not-open", MESSAGES("events.registration_not_open")


class EventFinished(Conflict):
    code, title = "event-finished", MESSAGES("events.event_finished")


class ChangedMeanwhile(Conflict):
    code, title = "conflict", MESSAGES("events.changed_meanwhile")


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
            MESSAGES("events.invalid_transition.detail", status=current, action=action.replace("_", " ")),
            event_status=current,
            allowed_from=list(rule["from"]),
        )
    return rule["to"][0]


def ensure_editable(status: str) -> None:
    if status in ("completed", "cancelled"):
        raise EventFinished(MESSAGES("events.event_finished.detail", status=status), event_status=status)


def ensure_registration_open(doc: EventDoc | dict[str, Any], now: float) -> None:
    """Only published events take registrations, and only inside their window."""
    status = doc["status"]
    if status != "published":
        raise RegistrationNotOpen(
            MESSAGES("events.not_open.status", status=status), reason="status", event_status=status
        )
    opens, closes = doc.get("opens_epoch"), doc.get("closes_epoch")
    if opens is not None and now < opens:
        raise RegistrationNotOpen(
            MESSAGES("events.not_open.early", when=local_time_text(doc["registration_opens_at"] or "")),
            reason="not_yet_open",
            opens_at=iso(doc["registration_opens_at"]),
        )
    if closes is not None and now >= closes:
        raise RegistrationNotOpen(
            MESSAGES("events.not_open.late", when=local_time_text(doc["registration_closes_at"] or "")),
            reason="closed",
            closed_at=iso(doc["registration_closes_at"]),
        )
    if now >= doc["last_end"]:
        raise RegistrationNotOpen(
            MESSAGES("events.not_open.late", when=local_time_text(doc["ends_at"])), reason="event_over"
        )


def registration_open(doc: EventDoc | dict[str, Any], now: float) -> bool:
    try:
        ensure_registration_open(doc, now)
    except RegistrationNotOpen:
        return False
    return True


def current_session(doc: EventDoc | dict[str, Any], now: float, early_seconds: float = 2 * 3600) -> str:
    """The session a check-in at `now` is for: the one under way (or starting within two
    hours), else the next one, else the last."""
    sessions = ordered_sessions(doc)
    for sid, s in sessions:
        if epoch(parse_moment(s["starts_at"])) - early_seconds <= now <= epoch(parse_moment(s["ends_at"])):
            return sid
    for sid, s in sessions:
        if now < epoch(parse_moment(s["starts_at"])):
            return sid
    return sessions[-1][0]
