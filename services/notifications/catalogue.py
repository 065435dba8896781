"""What each event causes: the routing table, who receives it, and what its
templates may use.

The routing table maps an event type to notifications, each with its default
channels, its category (rules.py) and its audience. `recipients` turns an event
into the people to write to, with what their templates need (`context`), so
handlers stay thin and this stays a pure function with unit tests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from services.notifications.rules import LOCAL, Category, Channel
from services.notifications.sms_text import strip_diacritics
from shared.contracts import (
    AwardIssued,
    CertificateIssued,
    EntryAwarded,
    EntryEvent,
    EntryForwarded,
    EntryNotAwarded,
    EntryScored,
    EntryScreened,
    EventCancelled,
    EventData,
    EventReminderDue,
    EventSummary,
    EventUpdated,
    MemberApplied,
    MemberContact,
    MembershipExpiring,
    MembershipLapsed,
    MembershipRenewed,
    Registrant,
    RegistrationConfirmed,
    RegistrationEvent,
    RegistrationPromoted,
    RegistrationWaitlisted,
)

# What a change of a published event must be about for its registrants to hear of it.
WHEN_CHANGES = frozenset({"sessions", "starts_at", "ends_at"})
PLACE_CHANGES = frozenset({"venue", "online_url"})
TOLD_CHANGES = WHEN_CHANGES | PLACE_CHANGES
Audience = Literal["member", "registrant", "registrants", "reviewers", "contact", "campaign", "entrants"]


@dataclass(frozen=True)
class Route:
    notification: str
    channels: tuple[Channel, ...]
    category: Category
    audience: Audience
    description: str


ROUTES: dict[str, list[Route]] = {
    "member.applied": [
        Route(
            "member_applied",
            ("email",),
            "staff",
            "reviewers",
            "Staff of the organisations applied to are asked to review the application.",
        )
    ],
    "member.approved": [Route("welcome", ("email",), "service", "member", "A new member is welcomed.")],
    "membership.expiring": [
        Route("membership_expiring", ("email",), "service", "member", "The membership ends soon: renew.")
    ],
    "membership.lapsed": [Route("membership_lapsed", ("email",), "service", "member", "The membership has ended.")],
    "membership.renewed": [
        Route(
            "membership_renewed",
            ("email",),
            "service",
            "member",
            "The membership was extended (with the receipt, if dues were paid).",
        )
    ],
    "event.cancelled": [
        Route(
            "event_cancelled",
            ("email", "sms"),
            "service",
            "registrants",
            "Every registrant hears that the event is cancelled.",
        )
    ],
    "event.updated": [
        Route(
            "event_changed",
            ("email", "sms"),
            "service",
            "registrants",
            "Every registrant hears of a new date, time or venue of a published event.",
        )
    ],
    "registration.confirmed": [
        Route(
            "registration_confirmed",
            ("email", "sms"),
            "service",
            "registrant",
            "The ticket code (with its QR image in the email).",
        )
    ],
    "registration.waitlisted": [
        Route(
            "registration_waitlisted",
            ("email",),
            "service",
            "registrant",
            "The event is full; the person's place on the waiting list.",
        )
    ],
    "registration.promoted": [
        Route("registration_promoted", ("email", "sms"), "service", "registrant", "A seat came free: the ticket code.")
    ],
    "registration.cancelled": [
        Route("registration_cancelled", ("email",), "service", "registrant", "The registration is cancelled.")
    ],
    "event.reminder_due": [
        Route("event_reminder", ("sms", "email"), "service", "registrant", "A reminder before the event.")
    ],
    "certificate.issued": [
        Route(
            "certificate_issued",
            ("email",),
            "service",
            "registrant",
            "The certificate of attendance, with its verification link.",
        )
    ],
    "webhook.endpoint_disabled": [
        Route(
            "webhook_endpoint_disabled",
            ("email",),
            "staff",
            "contact",
            "A partner's webhook endpoint was disabled (410 Gone, or failing for days): its technical contact is told.",
        )
    ],
    # Contests: every change of an entry's status is told to its entrants (authors, a youth entry's teacher).
    "entry.submitted": [Route("entry_submitted", ("email",), "service", "entrants", "A contest entry was received.")],
    "entry.screened": [
        Route("entry_screened", ("email",), "service", "entrants", "Screening: on to scoring, or not and why.")
    ],
    "entry.scored": [Route("entry_scored", ("email",), "service", "entrants", "The judges have scored the entry.")],
    "entry.awarded": [Route("entry_awarded", ("email",), "service", "entrants", "Results: the entry won a prize.")],
    "entry.not_awarded": [
        Route("entry_not_awarded", ("email",), "service", "entrants", "Results: the entry won no prize.")
    ],
    "entry.forwarded": [
        Route("entry_forwarded", ("email",), "service", "entrants", "The entry goes on to the national contest.")
    ],
    "award.issued": [
        Route("award_issued", ("email",), "service", "entrants", "The award certificate, with its verification link.")
    ],
}
# Events consumed only to keep projections (contacts, organisations, registrations).
PROJECTION_EVENTS = (
    "member.applied",
    "member.approved",
    "member.updated",
    "member.erased",
    "membership.renewed",
    "membership.expiring",
    "membership.lapsed",
)
ANNOUNCEMENT = Route("announcement", ("email", "sms"), "announcement", "campaign", "A campaign to a segment.")
NOTIFICATIONS = sorted({r.notification for routes in ROUTES.values() for r in routes} | {ANNOUNCEMENT.notification})


@dataclass
class Recipient:
    """One person an event's notification goes to."""

    recipient_id: str  # member id, or a stable pseudonym for guests and staff addresses
    member_id: str | None
    full_name: str
    email: str | None
    phone: str | None
    language: str
    context: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, bool] | None = None  # None: take them from the contact projection (or none apply)
    attachments: dict[str, str] = field(default_factory=dict)  # e.g. {"qr": ticket code}


def pseudonym(kind: str, value: str) -> str:
    """A recipient id that names nobody (delivery keys end up in logs)."""
    return f"{kind}-{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:20]}"


def expertise_key(value: object) -> str:
    """How expertise is matched: "Trí tuệ nhân tạo" and "tri tue  nhan tao" are one."""
    return " ".join(strip_diacritics(str(value)).lower().split())


def format_when(moment: datetime, language: str) -> str:
    local = moment.astimezone(LOCAL)
    if language == "en":
        return local.strftime("%d %b %Y, %H:%M")
    return local.strftime("%H:%M ngày %d/%m/%Y")


def format_day(day: date, language: str) -> str:
    return day.strftime("%d %b %Y") if language == "en" else day.strftime("%d/%m/%Y")


def event_context(event: EventSummary, language: str) -> dict[str, Any]:
    return {
        "title": (event.title_en or event.title_vi) if language == "en" else event.title_vi,
        "kind": event.kind,
        "when": format_when(event.starts_at, language),
        "ends": format_when(event.ends_at, language),
        "venue": event.venue or "",
        "online_url": event.online_url or "",
    }


def recipients(
    route: Route, data: EventData, envelope_data: dict[str, Any] | None = None, known: list[Registrant] | None = None
) -> list[Recipient]:
    """The people `route` writes to for this event, each with their template context.
    `known`: an event's registrants as notifications knows them, for an event message
    that does not list them itself (see `needs_registrants`)."""
    if route.audience == "registrants":
        return _registrants(data, envelope_data or {}, known)
    return _AUDIENCES.get(route.audience, _registration_recipient)(data, envelope_data or {})


def needs_registrants(route: Route, data: EventData) -> str | None:
    """The event whose registrants the caller must look up for `route`, if any."""
    if route.audience != "registrants" or not isinstance(data, (EventCancelled, EventUpdated)):
        return None
    return None if data.registrants or not worth_telling(data) else data.event.event_id


def _reviewers(data: EventData, raw: dict[str, Any]) -> list[Recipient]:
    assert isinstance(data, MemberApplied)
    return [
        Recipient(pseudonym("staff", address), None, address, address, None, "vi", {"applicant": _applicant(data)})
        for address in dict.fromkeys(data.reviewer_emails)
    ]


def _contact(data: EventData, raw: dict[str, Any]) -> list[Recipient]:
    """An address the event itself names (a partner's technical contact): the event's data is the context."""
    address = str(raw["contact_email"])
    language = "en" if raw.get("language") == "en" else "vi"
    return [Recipient(pseudonym("contact", address), None, address, address, None, language, {"about": raw})]


def _member(data: EventData, raw: dict[str, Any]) -> list[Recipient]:
    assert isinstance(data, MemberContact)
    person = Recipient(
        data.member_id,
        data.member_id,
        data.full_name,
        data.email,
        data.phone,
        data.language,
        consents=data.consents.model_dump(),
    )
    person.context.update(_membership_context(data))
    return [person]


def _entrants(data: EventData, raw: dict[str, Any]) -> list[Recipient]:
    assert isinstance(data, EntryEvent)
    return [
        Recipient(p.person_id, p.member_id, p.full_name, p.email, p.phone, p.language, _entry_context(data, p.language))
        for p in data.entrants
    ]


def worth_telling(data: EventData) -> bool:
    """Does this change reach the registrants? A cancellation always; an update when the
    date, time or place changed (a new capacity or description is not their concern)."""
    if isinstance(data, EventUpdated):
        return bool(TOLD_CHANGES & set(data.changed))
    return True


def _registrants(data: EventData, raw: dict[str, Any], known: list[Registrant] | None = None) -> list[Recipient]:
    assert isinstance(data, (EventCancelled, EventUpdated))
    if not worth_telling(data):
        return []
    reason = data.reason or "" if isinstance(data, EventCancelled) else ""
    changed = sorted(TOLD_CHANGES & set(data.changed)) if isinstance(data, EventUpdated) else []
    before = data.previous if isinstance(data, EventUpdated) else None
    people = []
    for registrant in data.registrants or known or []:
        person = _registrant(registrant)
        person.context.update(
            {
                "event": event_context(data.event, person.language),
                "reason": reason,
                "changed": changed,
                "when_changed": bool(WHEN_CHANGES & set(changed)),
                "place_changed": bool(PLACE_CHANGES & set(changed)),
                "previous": event_context(before, person.language) if before else "",
            }
        )
        people.append(person)
    return people


def _registration_recipient(data: EventData, raw: dict[str, Any]) -> list[Recipient]:
    assert isinstance(data, RegistrationEvent)
    person = _registrant(data.registrant)
    person.context.update(_registration_context(data, person.language))
    if isinstance(data, (RegistrationConfirmed, RegistrationPromoted)):
        person.attachments["qr"] = data.ticket_code
    return [person]


_AUDIENCES = {
    "reviewers": _reviewers,
    "contact": _contact,
    "member": _member,
    "entrants": _entrants,
}


def _registrant(r: Registrant) -> Recipient:
    rid = r.member_id or pseudonym("guest", r.registration_id)
    return Recipient(rid, r.member_id, r.full_name, r.email, r.phone, r.language)


def _applicant(data: MemberApplied) -> dict[str, Any]:
    return {
        "full_name": data.full_name,
        "email": data.email or "",
        "phone": data.phone or "",
        "member_id": data.member_id,
    }


def _membership_context(data: MemberContact) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if isinstance(data, (MembershipExpiring, MembershipLapsed, MembershipRenewed)):
        context["term_end"] = format_day(data.term_end, data.language)
    if isinstance(data, MembershipExpiring):
        context["days_left"] = data.days_left
    if isinstance(data, MembershipRenewed):
        context["term_start"] = format_day(data.term_start, data.language)
        context["dues"] = (
            {"amount": f"{data.dues.amount_vnd:,}".replace(",", "."), "receipt_number": data.dues.receipt_number or ""}
            if data.dues
            else None
        )
    return context


def _registration_context(data: RegistrationEvent, language: str) -> dict[str, Any]:
    context: dict[str, Any] = {"event": event_context(data.event, language)}
    for name in (
        "ticket_code",
        "qr_url",
        "cancel_url",
        "calendar_url",
        "position",
        "reminder",
        "certificate_code",
        "verify_url",
        "pdf_url",
        "cancelled_by",
    ):
        if hasattr(data, name):
            value = getattr(data, name)
            context[name] = "" if value is None else value
    if isinstance(data, CertificateIssued):
        context["hours"] = f"{data.hours:g}"
    if isinstance(data, EventReminderDue):
        context.setdefault("ticket_code", "")
    if isinstance(data, RegistrationWaitlisted):
        context["position"] = data.position
    return context


def _entry_context(data: EntryEvent, language: str) -> dict[str, Any]:
    """What contest messages may use; every key is always there (templates are strict)."""
    english = language == "en"
    edition = data.entry.edition
    context: dict[str, Any] = {
        "entry": {
            "code": data.entry.code,
            "title": data.entry.title,
            "field": (data.entry.field_en or data.entry.field_vi) if english else data.entry.field_vi,
            "edition": (edition.name_en or edition.name_vi) if english else edition.name_vi,
        },
        "decision": "",
        "reason": "",
        "results_expected": "",
        "tier": "",
        "prize": "",
        "final_score": "",
        "results_url": "",
        "national_contest": "",
        "certificate_code": "",
        "verify_url": "",
        "pdf_url": "",
    }
    for kind, fill in _ENTRY_DETAILS:
        if isinstance(data, kind):
            context.update(fill(data, language))
    return context


def _screened(data: Any, language: str) -> dict[str, Any]:
    return {"decision": data.decision, "reason": data.reason or ""}


def _scored(data: Any, language: str) -> dict[str, Any]:
    return {"results_expected": format_day(data.results_expected, language)} if data.results_expected else {}


def _tier(data: Any, language: str) -> dict[str, Any]:
    return {"tier": data.tier_en if language == "en" else data.tier_vi}


def _prize(data: Any, language: str) -> dict[str, Any]:
    return {"prize": f"{data.prize_vnd:,}".replace(",", ".") if data.prize_vnd else ""}


def _result(data: Any, language: str) -> dict[str, Any]:
    score = "" if data.final_score is None else f"{data.final_score:g}"
    return {"final_score": score, "results_url": data.results_url or ""}


def _forwarded(data: Any, language: str) -> dict[str, Any]:
    return {"national_contest": data.national_contest or ""}


def _award(data: Any, language: str) -> dict[str, Any]:
    return {
        "certificate_code": data.certificate_code,
        "verify_url": data.verify_url or "",
        "pdf_url": data.pdf_url or "",
    }


_ENTRY_DETAILS: tuple[tuple[type | tuple[type, ...], Any], ...] = (
    (EntryScreened, _screened),
    (EntryScored, _scored),
    ((EntryAwarded, AwardIssued), _tier),
    (EntryAwarded, _prize),
    ((EntryAwarded, EntryNotAwarded), _result),
    (EntryForwarded, _forwarded),
    (AwardIssued, _award),
)


# --- sample data, for previews and for checking templates when they are saved ---------

_SAMPLE_EVENT = {
    "title": "Hội thảo Chuyển đổi số cho doanh nghiệp nhỏ và vừa",
    "kind": "seminar",
    "when": "08:30 ngày 15/12/2026",
    "ends": "11:30 ngày 15/12/2026",
    "venue": "Hội trường Liên hiệp Hội, 12 Lê Lợi",
    "online_url": "",
}


def sample_context(notification: str, language: str = "vi") -> dict[str, Any]:
    """Realistic data for every variable a notification's templates may use."""
    event = dict(_SAMPLE_EVENT)
    if language == "en":
        event.update(
            title="Digital transformation for small and medium enterprises",
            when="15 Dec 2026, 08:30",
            ends="15 Dec 2026, 11:30",
        )
    return {
        "full_name": "Nguyễn Thị Mai",
        "federation": "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh",
        "federation_en": "the Provincial Union of Science and Technology Associations",
        "public_base_url": "https://lienhiep.example.vn",
        "language": language,
        "applicant": {
            "full_name": "Trần Văn Bình",
            "email": "binh@example.vn",
            "phone": "+84912345678",
            "member_id": "m-123",
        },
        "review_url": "https://lienhiep.example.vn/console/members/m-123",
        "term_end": "31/12/2026" if language == "vi" else "31 Dec 2026",
        "term_start": "01/01/2026",
        "days_left": 30,
        "dues": {"amount": "200.000", "receipt_number": "BL-2026-0042"},
        "event": event,
        "reason": "Diễn giả không thể tham dự",
        "ticket_code": "HT-7K3M9Q",
        "qr_url": "https://lienhiep.example.vn/t/HT-7K3M9Q.png",
        "cancel_url": "https://lienhiep.example.vn/c/abc",
        "calendar_url": "https://lienhiep.example.vn/e/1.ics",
        "position": 3,
        "reminder": "24h",
        "certificate_code": "CC-2026-0157",
        "hours": "8",
        "verify_url": "https://lienhiep.example.vn/v/CC-2026-0157",
        "pdf_url": "https://lienhiep.example.vn/v/CC-2026-0157.pdf",
        "cancelled_by": "registrant",
        "changed": ["sessions", "venue"],
        "when_changed": True,
        "place_changed": True,
        "previous": {**event, "when": "08:30 ngày 14/12/2026" if language == "vi" else "14 Dec 2026, 08:30"},
        "has_qr": True,
        "subject": "Thông báo về Hội thi Sáng tạo kỹ thuật lần thứ X",
        "body": "Liên hiệp Hội trân trọng thông báo Hội thi Sáng tạo kỹ thuật lần thứ X bắt đầu nhận hồ sơ.",
        "sms_text": "Hoi thi Sang tao ky thuat lan thu X bat dau nhan ho so.",
        "unsubscribe_url": "https://lienhiep.example.vn/api/v1/notifications/unsubscribe?token=sample",
        "about": {
            "endpoint_id": "5f0c2a7e9b1d4c3e8a6f2b1c0d9e8f7a",
            "url": "https://portal.example.vn/lienhiep/webhooks",
            "description": "Cổng thông tin đô thị thông minh",
            "key_prefix": "a1b2c3d4",
            "reason": "failing",
        },
        "entry": {
            "code": "STKT10-0042",
            "title": "Máy sấy lúa dùng năng lượng mặt trời",
            "field": "Nông – Lâm – Ngư nghiệp, Môi trường" if language == "vi" else "Agriculture and environment",
            "edition": "Hội thi Sáng tạo kỹ thuật lần thứ X"
            if language == "vi"
            else "10th Technical Creativity Contest",
        },
        "decision": "in",
        "results_expected": "01/09/2027" if language == "vi" else "01 Sep 2027",
        "tier": "Giải Nhì" if language == "vi" else "Second prize",
        "prize": "15.000.000",
        "final_score": "88",
        "results_url": "https://lienhiep.example.vn/api/v1/contests/editions/e1/results",
        "national_contest": "Hội thi Sáng tạo kỹ thuật toàn quốc",
    }
