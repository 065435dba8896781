"""Event envelope and event contracts: the single source of truth for every
producer and consumer, and for the AsyncAPI document.

An event type is a routing key (`member.approved`). Each type has one pydantic
model for its `data`, registered with `@contract`. Producers build envelopes with
`new_event`; consumers get `data` validated against the same model.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Envelope(BaseModel):
    """What travels on the bus for every event."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Event id (UUID): the key consumers deduplicate on.")
    type: str = Field(description="Event type, also the routing key.")
    version: int = Field(1, ge=1, description="Version of the data contract.")
    occurred_at: datetime
    producer: str = Field(description="The service that emitted the event.")
    correlation_id: str | None = Field(None, description="Request id of the user action that caused it.")
    causation_id: str | None = Field(None, description="Id of the event that caused it, if any.")
    data: dict[str, Any]


class EventData(BaseModel):
    """Base of every event's data. Consumers ignore fields they do not know, so a
    producer can add fields without breaking them."""

    model_config = ConfigDict(extra="ignore")


CONTRACTS: dict[str, tuple[type[EventData], int]] = {}
DESCRIPTIONS: dict[str, str] = {}


def contract(event_type: str, version: int = 1):
    """Register a data model as the contract of an event type."""

    def register(model: type[EventData]) -> type[EventData]:
        if event_type in CONTRACTS:
            raise ValueError(f"event type {event_type} registered twice")
        CONTRACTS[event_type] = (model, version)
        DESCRIPTIONS[event_type] = (model.__doc__ or "").strip()
        model.event_type = event_type  # type: ignore[attr-defined]
        return model

    return register


class UnknownEventType(LookupError):
    pass


def new_event(
    data: EventData,
    *,
    producer: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Envelope:
    """Build an envelope for `data`, whose class is a registered contract."""
    event_type = getattr(type(data), "event_type", None)
    if event_type is None:
        raise UnknownEventType(type(data).__name__)
    _, version = CONTRACTS[event_type]
    return Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        version=version,
        occurred_at=datetime.now(timezone.utc),
        producer=producer,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=data.model_dump(mode="json"),
    )


def parse_data(envelope: Envelope) -> EventData:
    """Validate an envelope's data against its contract (raises ValidationError)."""
    try:
        model, _ = CONTRACTS[envelope.type]
    except KeyError:
        raise UnknownEventType(envelope.type) from None
    return model.model_validate(envelope.data)


# --- shared pieces ---------------------------------------------------------------

Language = Literal["vi", "en"]


class Consents(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: bool = True
    sms: bool = False


class MemberContact(EventData):
    """What other services need to reach a member and keep their projections."""

    member_id: str
    full_name: str
    email: str | None = None
    phone: str | None = Field(None, description="E.164, e.g. +84912345678")
    language: Language = "vi"
    consents: Consents = Consents()
    organization_ids: list[str] = []
    status: str
    date_of_birth: date | None = None


# --- membership --------------------------------------------------------------------


@contract("member.applied")
class MemberApplied(MemberContact):
    """A person applied to join; staff of the association should review it."""


@contract("member.approved")
class MemberApproved(MemberContact):
    """A member became active: welcome them."""


@contract("member.updated")
class MemberUpdated(MemberContact):
    """A member's profile, contact data, consents or status changed."""


@contract("member.erased")
class MemberErased(EventData):
    """A member's personal data was erased: remove every copy of it."""

    member_id: str


# --- notifications -----------------------------------------------------------------


@contract("notification.delivered")
class NotificationDelivered(EventData):
    """A message was handed to its channel (SMTP accepted it, the SMS provider took it)."""

    delivery_key: str
    channel: Literal["email", "sms"]
    template: str
    member_id: str | None = None
    source_event_id: str


@contract("notification.failed")
class NotificationFailed(EventData):
    """A message could not be delivered and will not be retried."""

    delivery_key: str
    channel: Literal["email", "sms"]
    template: str
    member_id: str | None = None
    source_event_id: str
    reason: str


# --- AsyncAPI --------------------------------------------------------------------------


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 document of every event, generated from the contracts."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    schemas["Envelope"] = _schema(Envelope, schemas)
    for event_type in sorted(CONTRACTS):
        model, version = CONTRACTS[event_type]
        key = event_type.replace(".", "_")
        schemas[model.__name__] = _schema(model, schemas)
        messages[key] = {
            "name": event_type,
            "title": model.__name__,
            "summary": DESCRIPTIONS[event_type],
            "contentType": "application/json",
            "headers": {"type": "object", "properties": {"x-attempt": {"type": "integer"}}},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event_type},
                            "version": {"const": version},
                            "data": {"$ref": f"#/components/schemas/{model.__name__}"},
                        },
                    },
                ]
            },
        }
        channels[key] = {
            "address": event_type,
            "description": f"Routing key `{event_type}` on the topic exchange.",
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"on_{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "LienHiep events",
            "version": "1.0.0",
            "description": "Every event LienHiep services exchange over RabbitMQ (one durable topic exchange; routing key = event type).",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """JSON schema of a model, its nested models lifted into `schemas`."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    return schema


if __name__ == "__main__":
    import json

    print(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False))
