"""What the events service stores: one typed shape per collection.

Moments people read (created, confirmed, checked in, a session's start) are BSON
datetimes in UTC (`programme.stamp`; documents written before hold ISO text, and
`shared.clock.parse_moment` reads either); machine times compared in range queries
(a session's first start, a registration's order, a batch's lease) are epoch numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

Moment = datetime | str  # a datetime; ISO text in documents written before


class Title(TypedDict, total=False):
    vi: str
    en: str | None


class SessionDoc(TypedDict, total=False):
    order: int
    starts_at: Moment
    ends_at: Moment
    title: Title | None
    room: str | None


class AudienceDoc(TypedDict, total=False):
    kind: str
    organization_ids: list[str]


class BatchIntent(TypedDict, total=False):
    """Seats or places a registration batch took, until its registrations are written."""

    key: str  # its place in the event's `pending` map (not stored inside it)
    at: float  # when the batch started
    lease: float  # until when its process vouches for it (renewed while it lives)
    ids: list[str]  # the registration ids it writes
    seats: int
    places: int


class EventDoc(TypedDict, total=False):
    _id: str
    kind: str
    title: Title
    title_words: list[str]  # folded word prefixes of the title (search)
    description: Title | None
    organizer_id: str
    organizer_name: str | None
    co_organizer_ids: list[str]
    venue: str | None
    online_url: str | None
    sessions: dict[str, SessionDoc]
    starts_at: Moment
    ends_at: Moment
    first_start: float
    last_end: float
    registration_opens_at: Moment | None
    registration_closes_at: Moment | None
    opens_epoch: float | None
    closes_epoch: float | None
    capacity: int
    seats_free: int
    confirmed: int
    waiting: int
    waitlist_seq: int
    pending: dict[str, BatchIntent]
    audience: AudienceDoc
    training_hours: float | None
    status: str
    cancel_reason: str | None
    created_at: Moment
    created_by: str
    updated_at: Moment
    reminder_keys: list[str]


class RegistrationDoc(TypedDict, total=False):
    _id: str
    event_id: str
    kind: str  # member | guest
    member_id: str
    full_name: str
    email: str
    phone: str
    language: str
    holder_member: str
    holder_email: str
    holder_phone: str
    idempotency: str
    status: str  # confirmed | waitlisted | cancelled
    ticket_code: str
    wait_seq: int
    created_at: Moment
    created_epoch: float
    registered_by: str
    confirmed_at: Moment
    promoted_at: Moment
    cancelled_at: Moment
    cancelled_by: str
    status_before_cancel: str
    checkins: dict[str, Moment]
    checked_in_by: dict[str, str]
    attended: int
    certificate_code: str
    certificate_hours: float
    certificate_issued_at: Moment
    first_answer: dict[str, Any]
    erased: int


class MemberDoc(TypedDict, total=False):
    """Membership's member, as far as events needs it (kept from its events)."""

    _id: str
    status: str
    organization_ids: list[str]
    full_name: str
    email: str | None
    phone: str | None
    language: str
    as_of: Any


class OrganizationDoc(TypedDict, total=False):
    _id: str
    code: str
    code_key: str
    name: str
    kind: str
    parent_id: str | None
    status: str
    as_of: Any
