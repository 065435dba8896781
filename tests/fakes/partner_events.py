"""Events as membership and events publish them, for the webhooks tests: a small tree of
two associations under the federation, members in them, an event each organises."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.contracts import (
    EventData,
    EventSummary,
    MemberApproved,
    OrganizationCreated,
    Registrant,
    RegistrationConfirmed,
)

FEDERATION, ENGINEERS, ENGINEERS_BRANCH, DOCTORS = "org-lhh", "org-kysu", "org-kysu-hn", "org-yhoc"
TREE = {FEDERATION: None, ENGINEERS: FEDERATION, ENGINEERS_BRANCH: ENGINEERS, DOCTORS: FEDERATION}
START = datetime(2026, 12, 15, 1, 30, tzinfo=UTC)


def organizations() -> list[OrganizationCreated]:
    """The tree, parents first."""
    names = {
        FEDERATION: "Liên hiệp Hội",
        ENGINEERS: "Hội Kỹ sư",
        ENGINEERS_BRANCH: "Chi hội Kỹ sư Hà Nội",
        DOCTORS: "Hội Y học",
    }
    return [
        OrganizationCreated(
            organization_id=org,
            code=org.removeprefix("org-").upper(),
            name=names[org],
            kind="federation" if parent is None else "association" if parent == FEDERATION else "branch",
            parent_id=parent,
            contact_email=f"{org}@hoi.example.vn",
        )
        for org, parent in TREE.items()
    ]


def member(organization_ids: list[str], **fields: Any) -> MemberApproved:
    return MemberApproved(
        member_id=fields.pop("member_id", f"m-{uuid.uuid4().hex[:8]}"),
        full_name=fields.pop("full_name", "Nguyễn Thị Mai"),
        email=fields.pop("email", "mai@example.vn"),
        phone=fields.pop("phone", "+84912345678"),
        status="active",
        organization_ids=organization_ids,
        **fields,
    )


def seminar(organizer_id: str | None, **fields: Any) -> EventSummary:
    return EventSummary(
        event_id=fields.pop("event_id", f"ev-{uuid.uuid4().hex[:8]}"),
        kind="seminar",
        title_vi=fields.pop("title_vi", "Hội thảo Chuyển đổi số"),
        title_en="Digital transformation",
        starts_at=START,
        ends_at=START + timedelta(hours=3),
        venue="Hội trường Liên hiệp Hội",
        organizer_id=organizer_id,
        url="https://lienhiep.example.vn/api/v1/events/ev/calendar.ics",
        **fields,
    )


def confirmed(organizer_id: str | None, registered_by: str | None = None, **fields: Any) -> RegistrationConfirmed:
    return RegistrationConfirmed(
        event=seminar(organizer_id),
        registrant=Registrant(
            registration_id=fields.pop("registration_id", f"r-{uuid.uuid4().hex[:8]}"),
            member_id=fields.pop("member_id", None),
            full_name="Trần Văn Bình",
            email="binh@example.vn",
            phone="+84987654321",
            registered_by=registered_by,
        ),
        ticket_code="HT-7K3M-9QXA-BCDE-FG",
        qr_url="https://lienhiep.example.vn/api/v1/tickets/HT/qr.png",
        cancel_url="https://lienhiep.example.vn/api/v1/registrations/r/cancel?token=SECRET-LINK",
        calendar_url="https://lienhiep.example.vn/api/v1/calendars/m/feed.ics?token=FEED-LINK",
        **fields,
    )


def event_type(data: EventData) -> str:
    return type(data).event_type  # type: ignore[attr-defined]
