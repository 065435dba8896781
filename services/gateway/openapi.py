"""The public OpenAPI 3.1 document, assembled from every service's endpoint
declarations (the same pydantic models that validate the requests)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from services.events.api import routes as events_routes
from services.membership.api import routes as membership_routes
from services.notifications.api import routes as notifications_routes
from shared.api import Api

SERVICE_APIS: dict[str, Api] = {
    "membership": membership_routes,
    "events": events_routes,
    "notifications": notifications_routes,
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "in": {"type": "string"}, "message": {"type": "string"},
            "code": {"type": "string"}}}},
    },
}


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for api in SERVICE_APIS.values():
        service_paths, service_schemas = api.openapi_paths()
        for path, item in service_paths.items():
            paths.setdefault(path, {}).update(item)
        schemas.update(service_schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LienHiep API",
            "version": "1.0.0",
            "description": "The public API of LienHiep: organisations, members, events and registrations, "
                           "notifications. Errors are RFC 9457 problem+json.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas},
    }
