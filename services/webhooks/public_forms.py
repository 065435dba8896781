"""What a partner key may hear, and in what form: a webhook never carries what its key
could not read through the API.

Two gates, the same as the API's (shared/access.py):
- the *scope* each event type needs (endpoints.OFFERED): `member.*`, `membership.*` and
  `organization.*` need `members:read`; `event.*` needs `events:read`; `registration.*`,
  `attendance.checked_in` and `certificate.issued` need `registrations:write`;
- the *reach*: the organisations the event belongs to — a member's organisations, the
  organisation itself, an event's organiser (for registrations too). A key bound to an
  organisation reaches its subtree; an unbound key reaches everything its scopes allow.

Then each type has a *public form*, built here from the event's data field by field (a
field is sent only when named here, so a field added to a contract later stays
internal until someone decides it may go out):
- members: what `GET /members/{id}` shows a `members:read` key, with only the
  organisations within the key's reach;
- events: what `GET /events/{id}` shows anyone with `events:read` (never the list of
  registrants an `event.cancelled` carries for notifications);
- registrations: the event and the registration's id and status to every key reaching
  the organiser; the person (name, contacts, member id), the ticket and the certificate
  code only to the key that made the registration, as the events API shows a partner
  only the registrations it made. Cancel links and calendar-feed links (they act for
  the person) are never sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.webhooks.endpoints import (
    OFFERED,
    EventHook,
    HookEvent,
    HookMember,
    HookOrganization,
    HookPerson,
    HookRegistration,
    MemberErasedHook,
    MemberHook,
    OrganizationHook,
    RegistrationHook,
)
from shared.access import Reach
from shared.contracts import (
    AttendanceCheckedIn,
    CertificateIssued,
    EventCancelled,
    EventData,
    EventPublished,
    EventSummary,
    EventUpdated,
    MemberContact,
    MemberErased,
    MembershipExpiring,
    MembershipLapsed,
    MembershipRenewed,
    MemberUpdated,
    OrganizationChanged,
    RegistrationCancelled,
    RegistrationEvent,
    RegistrationWaitlisted,
)

STATUS_OF = {
    "registration.confirmed": "confirmed",
    "registration.promoted": "confirmed",
    "registration.waitlisted": "waitlisted",
    "registration.cancelled": "cancelled",
    "attendance.checked_in": "confirmed",
    "certificate.issued": "confirmed",
}


@dataclass(frozen=True)
class Viewer:
    """A partner key as the webhooks see it: its scopes and its reach."""

    key_prefix: str
    scopes: frozenset[str]
    reach: Reach

    @property
    def sub(self) -> str:
        return f"key:{self.key_prefix}"


def scope_of(event_type: str) -> str:
    return OFFERED[event_type][0]


def organisations_of(data: EventData, member_organisations: Sequence[str] = ()) -> list[str | None]:
    """The organisations an event belongs to (reach is judged on them). A member's
    erasure carries no organisations: the caller passes the ones it knew."""
    if isinstance(data, MemberContact):
        return list(data.organization_ids)
    if isinstance(data, MemberErased):
        return list(member_organisations)
    if isinstance(data, OrganizationChanged):
        return [data.organization_id]
    if isinstance(data, (EventPublished, EventUpdated, EventCancelled, RegistrationEvent)):
        return [data.event.organizer_id]
    return []


def may_hear(viewer: Viewer, event_type: str, organisations: Sequence[str | None]) -> bool:
    """Scope and reach: may this key read what the event is about?"""
    return event_type in OFFERED and scope_of(event_type) in viewer.scopes and viewer.reach.covers_any(organisations)


def public_form(event_type: str, data: EventData, viewer: Viewer) -> BaseModel:
    """The event's data as this key may see it (call only after `may_hear`)."""
    if isinstance(data, MemberErased):
        return MemberErasedHook(member_id=data.member_id)
    if isinstance(data, MemberContact):
        return _member(data, viewer)
    if isinstance(data, OrganizationChanged):
        return OrganizationHook(
            organization=HookOrganization(**data.model_dump(include=set(HookOrganization.model_fields)))
        )
    if isinstance(data, RegistrationEvent):
        return _registration(event_type, data, viewer)
    if isinstance(data, (EventPublished, EventUpdated, EventCancelled)):
        return EventHook(
            event=_event(data.event),
            capacity=data.capacity if isinstance(data, EventPublished) else None,
            changed=list(data.changed) if isinstance(data, EventUpdated) else None,
            reason=data.reason if isinstance(data, EventCancelled) else None,
        )
    raise ValueError(f"{event_type} has no public form")


def body(event_type: str, occurred_at: datetime, form: BaseModel) -> bytes:
    """The delivery's body (Standard Webhooks' recommended shape), compact and fixed once:
    what is signed is exactly what is sent."""
    payload: dict[str, Any] = {
        "type": event_type,
        "timestamp": occurred_at.isoformat().replace("+00:00", "Z"),
        "data": form.model_dump(mode="json", exclude_none=True),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _member(data: MemberContact, viewer: Viewer) -> MemberHook:
    shown = viewer.reach.within(data.organization_ids)
    member = HookMember(
        member_id=data.member_id,
        full_name=data.full_name,
        email=data.email,
        phone=data.phone,
        language=data.language,
        status=data.status,
        organization_ids=sorted(shown if shown is not None else data.organization_ids),
        date_of_birth=data.date_of_birth,
        expertise=data.expertise,
        consents=data.consents.model_dump(),
    )
    return MemberHook(
        member=member,
        changed_fields=list(data.changed_fields) if isinstance(data, MemberUpdated) else None,
        term_start=data.term_start if isinstance(data, MembershipRenewed) else None,
        term_end=data.term_end if isinstance(data, (MembershipRenewed, MembershipExpiring, MembershipLapsed)) else None,
        days_left=data.days_left if isinstance(data, MembershipExpiring) else None,
    )


def _event(event: EventSummary) -> HookEvent:
    return HookEvent(
        event_id=event.event_id,
        kind=event.kind,
        title_vi=event.title_vi,
        title_en=event.title_en,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue=event.venue,
        online_url=event.online_url,
        organizer_id=event.organizer_id,
        organizer_name=event.organizer_name,
        calendar_url=event.url,
    )


def _registration(event_type: str, data: RegistrationEvent, viewer: Viewer) -> RegistrationHook:
    who = data.registrant
    yours = who.registered_by is not None and who.registered_by == viewer.sub
    person = (
        HookPerson(
            member_id=who.member_id, full_name=who.full_name, email=who.email, phone=who.phone, language=who.language
        )
        if yours
        else None
    )
    ticket = getattr(data, "ticket_code", None) if yours else None
    hook = RegistrationHook(
        event=_event(data.event),
        registration=HookRegistration(
            registration_id=who.registration_id,
            status=STATUS_OF[event_type],
            registered_by_you=yours,
            person=person,
            ticket_code=ticket,
        ),
    )
    if isinstance(data, RegistrationWaitlisted):
        hook.position = data.position
    elif isinstance(data, RegistrationCancelled):
        hook.cancelled_by = data.cancelled_by
    elif isinstance(data, AttendanceCheckedIn):
        hook.session_id, hook.checked_in_at = data.session_id, data.checked_in_at
    elif isinstance(data, CertificateIssued):
        hook.hours = data.hours
        if yours:
            hook.certificate_code, hook.verify_url = data.certificate_code, data.verify_url
    return hook
