"""The shapes of what the notifications service stores, one type per document.

Moments people read (`created_at`, `updated_at`, `sent_at`, `at` of a suppression)
are BSON datetimes in UTC (read back through `shared.mongo.from_store`); moments the
store compares (`due`, `lease_until`, a quota record's `at`) are epoch numbers, which
the embedded store compares exactly. Flags are "yes"/"no" text (the embedded store
reads booleans written by `$set` back as 1/0).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

YesNo = Literal["yes", "no"]


class PreferencesDoc(TypedDict, total=False):
    """A person's choices, kept on their contacts document (`preferences`)."""

    service: dict[str, bool]
    announcement: dict[str, bool]
    zalo: bool
    updated_at: datetime


class ContactDoc(TypedDict):
    """A member as notifications needs them (projected from membership's events)."""

    _id: str  # the member id
    full_name: NotRequired[str]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]
    language: NotRequired[str]
    status: NotRequired[str]
    organization_ids: NotRequired[list[str]]
    expertise: NotRequired[list[str]]
    consents: NotRequired[dict[str, YesNo]]
    date_of_birth: NotRequired[str | None]
    preferences: NotRequired[PreferencesDoc]
    as_of: NotRequired[datetime]
    as_of_ts: NotRequired[float]
    erased: NotRequired[YesNo]
    erasing_addresses: NotRequired[list[str]]  # kept while an erasure is under way (projections.ERASING)


class OrganizationDoc(TypedDict, total=False):
    _id: str
    parent_id: str | None
    name: str
    kind: str
    status: str


class RegistrationDoc(TypedDict, total=False):
    _id: str  # the registration id
    event_id: str
    member_id: str | None
    full_name: str
    email: str | None
    phone: str | None
    language: str
    status: Literal["active", "waitlisted", "cancelled"]


class SuppressionDoc(TypedDict):
    _id: str  # the address, lower-case
    channel: str
    reason: str
    at: datetime


class QuotaDoc(TypedDict):
    """One announcement SMS counted against a number's daily allowance."""

    _id: str  # "<phone>:<delivery key>"
    phone: str
    at: float


DeliveryStatus = Literal[
    "queued", "sending", "sent", "delivered", "undelivered", "failed", "dead", "skipped", "paused", "cancelled"
]


class DeliveryDoc(TypedDict):
    """One message to one person on one channel, under its deterministic key."""

    _id: str
    notification: str
    category: str
    channel: str
    language: str
    recipient_id: str
    member_id: str | None
    source_event_id: str
    source_event_type: str
    campaign_id: str | None
    status: DeliveryStatus
    attempts: NotRequired[int]
    due: NotRequired[float]
    reason: NotRequired[str]
    held: NotRequired[str]
    to: NotRequired[str]
    to_name: NotRequired[str]
    content: NotRequired[dict[str, Any]]
    headers: NotRequired[dict[str, str]]
    attachments: NotRequired[dict[str, str]]
    template_version: NotRequired[int]
    segments: NotRequired[int]
    encoding: NotRequired[str]
    unicode: NotRequired[bool]
    claim: NotRequired[str]
    lease_until: NotRequired[float]
    provider_id: NotRequired[str]
    last_error: NotRequired[str]
    receipt: NotRequired[str]
    zns_refused: NotRequired[str]  # why Zalo did not take it (then it went as an SMS)
    fallback: NotRequired[dict[str, Any]]  # the SMS to send if ZNS refuses (zns deliveries)
    erased: NotRequired[YesNo]
    created_at: NotRequired[datetime]
    updated_at: NotRequired[datetime]
    sent_at: NotRequired[datetime]


class CampaignDoc(TypedDict):
    _id: str
    name: str
    segment: dict[str, Any]
    channels: list[str]
    language: str
    subject: NotRequired[str | None]
    body: NotRequired[str | None]
    sms_text: NotRequired[str | None]
    status: Literal["running", "paused", "cancelled"]
    cursor: int
    planned: int
    planning_done: YesNo
    lease_until: float
    owner: NotRequired[str]
    pages_total: NotRequired[int]
    recipients_total: NotRequired[int]
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class CampaignPageDoc(TypedDict):
    _id: str  # "<campaign id>:<page number>"
    campaign_id: str
    ids: list[str]


class TemplateDoc(TypedDict):
    _id: str  # "<notification>:<channel>:<language>" (versions: ":<version>" more)
    notification: str
    channel: str
    language: str
    parts: dict[str, str]
    version: int
    updated_at: datetime
    updated_by: str
