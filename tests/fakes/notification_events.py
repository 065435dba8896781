"""Events as the membership and events services publish them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from shared.contracts import (
    CertificateIssued,
    EventCancelled,
    EventReminderDue,
    EventSummary,
    MemberApplied,
    MemberApproved,
    MembershipExpiring,
    MembershipLapsed,
    MembershipRenewed,
    MemberUpdated,
    Registrant,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
    new_event,
)

SEMINAR = EventSummary(
    event_id="ev-1",
    kind="seminar",
    title_vi="Hội thảo Chuyển đổi số",
    title_en="Digital transformation seminar",
    starts_at=datetime(2026, 12, 15, 1, 30, tzinfo=UTC),
    ends_at=datetime(2026, 12, 15, 4, 30, tzinfo=UTC),
    venue="Hội trường Liên hiệp Hội",
)


def uid() -> str:
    return uuid.uuid4().hex[:12]


def member(**kw) -> dict:
    return {
        "member_id": kw.pop("member_id", f"m-{uid()}"),
        "full_name": kw.pop("full_name", "Đỗ Thị Hằng"),
        "email": kw.pop("email", f"{uid()}@example.vn"),
        "phone": kw.pop("phone", "+84912345678"),
        "status": "active",
        "language": kw.pop("language", "vi"),
        "consents": kw.pop("consents", {"email": True, "sms": True}),
        **kw,
    }


def registrant(**kw) -> Registrant:
    return Registrant(
        registration_id=kw.pop("registration_id", f"r-{uid()}"),
        full_name=kw.pop("full_name", "Đặng Văn Đức"),
        email=kw.pop("email", f"{uid()}@example.vn"),
        phone=kw.pop("phone", "+8490" + str(uuid.uuid4().int)[:7]),
        language=kw.pop("language", "vi"),
        **kw,
    )


def event_of(kind: str, language: str = "vi", who: Registrant | None = None, m: dict | None = None):
    who = who or registrant(language=language)
    m = m or member(language=language)
    data = {
        "member.applied": lambda: MemberApplied(**m, reviewer_emails=["review@hoi-tin-hoc.vn"]),
        "member.approved": lambda: MemberApproved(**m),
        "member.updated": lambda: MemberUpdated(**m),
        "membership.expiring": lambda: MembershipExpiring(**m, term_end=date(2026, 12, 31), days_left=30),
        "membership.lapsed": lambda: MembershipLapsed(**m, term_end=date(2026, 12, 31)),
        "membership.renewed": lambda: MembershipRenewed(
            **m,
            term_start=date(2027, 1, 1),
            term_end=date(2027, 12, 31),
            dues={"amount_vnd": 200000, "paid_on": date(2026, 12, 1)},
        ),
        "event.cancelled": lambda: EventCancelled(event=SEMINAR, reason="Diễn giả ốm", registrants=[who]),
        "registration.confirmed": lambda: RegistrationConfirmed(event=SEMINAR, registrant=who, ticket_code="HT-7K3M9Q"),
        "registration.waitlisted": lambda: RegistrationWaitlisted(event=SEMINAR, registrant=who, position=4),
        "registration.promoted": lambda: RegistrationPromoted(event=SEMINAR, registrant=who, ticket_code="HT-PROMO1"),
        "registration.cancelled": lambda: RegistrationCancelled(event=SEMINAR, registrant=who),
        "event.reminder_due": lambda: EventReminderDue(
            event=SEMINAR, registrant=who, reminder="24h", ticket_code="HT-7K3M9Q"
        ),
        "certificate.issued": lambda: CertificateIssued(
            event=SEMINAR, registrant=who, certificate_code="CC-1", hours=8
        ),
    }[kind]()
    return new_event(data, producer="test")
