"""The webhooks service's endpoint declarations and the shapes partners receive: the one
module of the service the gateway imports (to route, validate and document requests,
and to describe the webhooks themselves in the OpenAPI document's `webhooks` section).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shared import parking
from shared.api import Api

api = Api("webhooks", tag="webhooks")
SCOPE = "webhooks:manage"
KEY_PREFIX = r"^[0-9a-f]{8}$"
Language = Literal["vi", "en"]
EndpointState = Literal["active", "paused", "disabled"]
DeliveryState = Literal["pending", "delivered", "failed", "cancelled"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- what partners receive (each event's public form) ------------------------------------


class HookEvent(BaseModel):
    """An event (seminar, training, conference) as anyone allowed to read events sees it."""

    event_id: str
    kind: Literal["seminar", "training", "conference"]
    title_vi: str
    title_en: str | None = None
    starts_at: datetime
    ends_at: datetime
    venue: str | None = None
    online_url: str | None = None
    organizer_id: str | None = None
    organizer_name: str | None = None
    calendar_url: str | None = Field(None, description="The event's .ics file")


class HookPerson(BaseModel):
    """Who registered: shown only to the key that made the registration."""

    member_id: str | None = None
    full_name: str
    email: str | None = None
    phone: str | None = None
    language: Language = "vi"


class HookRegistration(BaseModel):
    registration_id: str
    status: Literal["confirmed", "waitlisted", "cancelled"]
    registered_by_you: bool = Field(description="This key made the registration (then `person` is given)")
    person: HookPerson | None = None
    ticket_code: str | None = Field(None, description="Only to the key that made the registration")


class HookMember(BaseModel):
    """A member as a key with `members:read` reads it through the API."""

    member_id: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    language: Language = "vi"
    status: str
    organization_ids: list[str] = Field(description="Only the organisations within the key's reach")
    date_of_birth: date | None = None
    expertise: str | None = None
    consents: dict[str, bool] = {}


class HookOrganization(BaseModel):
    organization_id: str
    code: str
    name: str
    kind: str
    parent_id: str | None = None
    status: str
    contact_email: str | None = None
    contact_phone: str | None = None


class MemberHook(BaseModel):
    """`member.*` and `membership.*`."""

    member: HookMember
    changed_fields: list[str] | None = Field(None, description="member.updated: what changed")
    term_start: date | None = Field(None, description="membership.renewed")
    term_end: date | None = Field(None, description="membership.renewed, .expiring, .lapsed")
    days_left: int | None = Field(None, description="membership.expiring")


class MemberErasedHook(BaseModel):
    """member.erased: delete every copy of this member's personal data."""

    member_id: str


class OrganizationHook(BaseModel):
    organization: HookOrganization


class EventHook(BaseModel):
    """`event.*`."""

    event: HookEvent
    capacity: int | None = Field(None, description="event.published")
    changed: list[str] | None = Field(None, description="event.updated: what changed")
    reason: str | None = Field(None, description="event.cancelled")


class RegistrationHook(BaseModel):
    """`registration.*`, `attendance.checked_in`, `certificate.issued`."""

    event: HookEvent
    registration: HookRegistration
    position: int | None = Field(None, description="registration.waitlisted: place on the waiting list")
    cancelled_by: str | None = Field(None, description="registration.cancelled")
    session_id: str | None = Field(None, description="attendance.checked_in")
    checked_in_at: datetime | None = Field(None, description="attendance.checked_in")
    hours: float | None = Field(None, description="certificate.issued")
    certificate_code: str | None = Field(None, description="certificate.issued, to the key that registered")
    verify_url: str | None = Field(None, description="certificate.issued, to the key that registered")


class TestHook(BaseModel):
    """webhook.test: sent by a test call, never by an event."""

    endpoint_id: str
    message: str


class Offer(BaseModel):
    """An event type partners may subscribe to: the scope its key needs, and its form."""

    type: str
    scope: str
    description: str


# Event type → (scope its key needs, whose reach decides, what it carries). The only list of
# what partners may hear: anything else on the bus (applications under review, reminders,
# notifications, credentials) is internal.
OFFERED: dict[str, tuple[str, str, type[BaseModel]]] = {
    "member.approved": ("members:read", "A member became active (in the key's organisations).", MemberHook),
    "member.updated": ("members:read", "A member's profile, contacts, consents or status changed.", MemberHook),
    "member.erased": ("members:read", "A member's personal data was erased: delete your copies.", MemberErasedHook),
    "membership.renewed": ("members:read", "A membership term was extended.", MemberHook),
    "membership.expiring": ("members:read", "A membership ends soon.", MemberHook),
    "membership.lapsed": ("members:read", "A membership ended without renewal.", MemberHook),
    "organization.created": (
        "members:read",
        "An organisation joined the tree (within the key's reach).",
        OrganizationHook,
    ),
    "organization.updated": ("members:read", "An organisation changed.", OrganizationHook),
    "event.published": ("events:read", "An event organised within the key's reach opened.", EventHook),
    "event.updated": ("events:read", "An event's details changed.", EventHook),
    "event.cancelled": ("events:read", "An event was cancelled.", EventHook),
    "registration.confirmed": ("registrations:write", "A seat was confirmed.", RegistrationHook),
    "registration.waitlisted": (
        "registrations:write",
        "The event was full: a place on the waiting list.",
        RegistrationHook,
    ),
    "registration.promoted": (
        "registrations:write",
        "A seat came free and went to a waiting person.",
        RegistrationHook,
    ),
    "registration.cancelled": ("registrations:write", "A registration was cancelled.", RegistrationHook),
    "attendance.checked_in": ("registrations:write", "A ticket was checked in at the door.", RegistrationHook),
    "certificate.issued": ("registrations:write", "A certificate of attendance was issued.", RegistrationHook),
}
EventType = Literal[tuple(OFFERED)]  # type: ignore[valid-type]


# --- requests and answers ------------------------------------------------------------------


class EndpointIn(Strict):
    url: str = Field(min_length=8, max_length=2048, description="http(s) URL on a public address; no credentials in it")
    event_types: list[EventType] = Field(min_length=1, max_length=len(OFFERED))  # type: ignore[valid-type]
    description: str | None = Field(None, max_length=500)
    contact_email: EmailStr = Field(description="Told by email when the endpoint is disabled")
    language: Language = Field("vi", description="Language of that email")
    key_prefix: str | None = Field(
        None, pattern=KEY_PREFIX, description="Administrators: the partner key that owns it (keys: omit)"
    )


class EndpointPatch(Strict):
    url: str | None = Field(None, min_length=8, max_length=2048)
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=len(OFFERED))  # type: ignore[valid-type]
    description: str | None = Field(None, max_length=500)
    contact_email: EmailStr | None = None
    language: Language | None = None
    enabled: bool | None = Field(None, description="false pauses it; true resumes it (also after it was disabled)")


class EndpointOut(BaseModel):
    id: str
    key_prefix: str
    url: str
    event_types: list[str]
    description: str | None = None
    contact_email: str
    language: Language
    state: EndpointState
    disabled_reason: Literal["gone", "failing", "key_revoked"] | None = None
    disabled_at: datetime | None = None
    failing_since: datetime | None = Field(None, description="Since when every try has failed")
    awaiting_key: bool = Field(
        description="Registered by an administrator for a key that has not called the webhooks API yet: "
        "nothing is sent until it does (its scopes and organisation are learnt from its own call)"
    )
    previous_secret_valid_until: datetime | None = Field(None, description="During a secret rotation's overlap")
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="The signing secret (`whsec_…`): shown this once, never again")


class EndpointQuery(Strict):
    key_prefix: str | None = Field(None, pattern=KEY_PREFIX, description="Administrators: one key's endpoints")
    state: EndpointState | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    next_offset: int | None = None


class RotateIn(Strict):
    overlap_hours: float = Field(
        24.0, ge=0, le=168, description="How long the old secret keeps signing too (both signatures are sent)"
    )


class SecretOut(BaseModel):
    endpoint_id: str
    secret: str = Field(description="The new signing secret: shown this once")
    previous_secret_valid_until: datetime | None = None


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    trigger: Literal["event", "retry", "redelivery", "test"]
    outcome: Literal["delivered", "gone", "failed", "refused", "timeout", "unreachable"]
    status_code: int | None = None
    latency_ms: float | None = None
    response_excerpt: str | None = Field(None, description="The first KiB of the answer")
    error: str | None = None


class DeliveryOut(BaseModel):
    id: str
    event_type: str
    event_id: str
    msg_id: str = Field(description="The `webhook-id` header: the same on every try")
    state: DeliveryState
    attempts: int
    next_try_at: datetime | None = None
    created_at: datetime
    finished_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    log: list[AttemptOut] = Field(description="Every try, newest first")


class DeliveryQuery(Strict):
    state: DeliveryState | None = None
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=100_000)


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_offset: int | None = None


class TestOut(BaseModel):
    delivery_id: str
    msg_id: str
    attempt: AttemptOut


class OfferList(BaseModel):
    items: list[Offer]


# --- endpoints -----------------------------------------------------------------------------

RELIABILITY = (
    "Deliveries follow Standard Webhooks (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`). "
    "Retries: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h for about three days. Order is not promised: "
    "use the body's `timestamp` and the API for the current state."
)
list_offers = api.endpoint(
    "list_offers",
    "GET",
    "/webhooks/event-types",
    summary="Event types partners may subscribe to, and the scope each needs",
    response=OfferList,
    scope=SCOPE,
)
create_endpoint = api.endpoint(
    "create_endpoint",
    "POST",
    "/webhooks/endpoints",
    summary="Register a webhook endpoint (answers its signing secret, once)",
    description="A key registers its own endpoints; an administrator may register one for a key (`key_prefix`). "
    "Only events within the key's reach and scopes are sent, in their public form. " + RELIABILITY,
    body=EndpointIn,
    response=EndpointCreated,
    status=201,
    scope=SCOPE,
    errors=(403, 409),
)
list_endpoints = api.endpoint(
    "list_endpoints",
    "GET",
    "/webhooks/endpoints",
    summary="Webhook endpoints (a key: its own; an administrator: any key's)",
    query=EndpointQuery,
    response=EndpointPage,
    scope=SCOPE,
    errors=(403,),
)
get_endpoint = api.endpoint(
    "get_endpoint",
    "GET",
    "/webhooks/endpoints/{endpoint_id}",
    summary="One webhook endpoint",
    response=EndpointOut,
    scope=SCOPE,
    errors=(403, 404),
)
update_endpoint = api.endpoint(
    "update_endpoint",
    "PATCH",
    "/webhooks/endpoints/{endpoint_id}",
    summary="Change an endpoint; pause it, or resume it after it was disabled",
    body=EndpointPatch,
    response=EndpointOut,
    scope=SCOPE,
    errors=(403, 404, 409),
)
delete_endpoint = api.endpoint(
    "delete_endpoint",
    "DELETE",
    "/webhooks/endpoints/{endpoint_id}",
    summary="Remove an endpoint, its pending deliveries and its log",
    status=204,
    scope=SCOPE,
    errors=(403, 404),
)
rotate_secret = api.endpoint(
    "rotate_secret",
    "POST",
    "/webhooks/endpoints/{endpoint_id}/rotate-secret",
    summary="A new signing secret (shown once); the old one keeps signing during the overlap",
    body=RotateIn,
    response=SecretOut,
    scope=SCOPE,
    errors=(403, 404),
)
test_endpoint = api.endpoint(
    "test_endpoint",
    "POST",
    "/webhooks/endpoints/{endpoint_id}/test",
    summary="Send a signed `webhook.test` now and answer how the endpoint answered",
    response=TestOut,
    scope=SCOPE,
    errors=(403, 404),
    timeout_seconds=75.0,  # longer than the longest delivery timeout a deployment may set
)
list_deliveries = api.endpoint(
    "list_deliveries",
    "GET",
    "/webhooks/endpoints/{endpoint_id}/deliveries",
    summary="The endpoint's delivery log, newest first: every try's outcome, status code, latency, first KiB",
    query=DeliveryQuery,
    response=DeliveryPage,
    scope=SCOPE,
    errors=(403, 404),
)
redeliver = api.endpoint(
    "redeliver",
    "POST",
    "/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    summary="Send a delivery again now (same `webhook-id`, a fresh retry schedule)",
    response=DeliveryOut,
    status=202,
    scope=SCOPE,
    errors=(403, 404, 409, 410),
)
list_parked = api.endpoint("list_parked", "GET", "/webhooks/parked-messages", **parking.LIST)
replay_parked = api.endpoint("replay_parked", "POST", "/webhooks/parked-messages/{consumer}/replay", **parking.REPLAY)


# --- the OpenAPI `webhooks` section --------------------------------------------------------

_HEADERS = [
    ("webhook-id", "The message id: the same on every try of one event to one endpoint (deduplicate on it)"),
    ("webhook-timestamp", "When this try was made, seconds since 1970 (refuse ones far from now)"),
    ("webhook-signature", "`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`; space-separated during a rotation"),
]


def openapi_webhooks() -> tuple[dict[str, Any], dict[str, Any]]:
    """OpenAPI 3.1 `webhooks` (one per event type partners may hear) and their schemas."""
    schemas: dict[str, Any] = {}
    hooks: dict[str, Any] = {}
    offered = dict(OFFERED)
    offered["webhook.test"] = (SCOPE, "Sent by a test call.", TestHook)
    for event_type, (scope, text, model) in offered.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
        hooks[event_type] = {
            "post": {
                "operationId": "webhook_" + event_type.replace(".", "_"),
                "summary": text,
                "description": f"Sent to endpoints of keys with scope `{scope}` whose reach covers it. {RELIABILITY}",
                "tags": ["webhooks"],
                "parameters": [
                    {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": d}
                    for name, d in _HEADERS
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _delivery_schema(event_type, model)}},
                },
                "responses": {
                    "2XX": {"description": "Received (any 2xx)"},
                    "410": {"description": "Gone: disable this endpoint"},
                    "default": {"description": "Any other answer, or none within the timeout: tried again later"},
                },
            }
        }
    return hooks, schemas


def _delivery_schema(event_type: str, model: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"const": event_type},
            "timestamp": {"type": "string", "format": "date-time", "description": "When the event happened"},
            "data": {"$ref": f"#/components/schemas/{model.__name__}"},
        },
    }
