"""The envelope every event travels in, the registry of contracts, and the
AsyncAPI document generated from them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

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
        occurred_at=datetime.now(UTC),
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
