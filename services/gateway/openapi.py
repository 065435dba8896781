"""The public OpenAPI 3.1 document, assembled from every service's endpoint
declarations (the same pydantic models that validate the requests)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from services.contests import endpoints as contests_endpoints
from services.events import endpoints as events_endpoints
from services.gateway.endpoints import api as gateway_endpoints
from services.membership import endpoints as membership_endpoints
from services.notifications import endpoints as notifications_endpoints
from services.webhooks import endpoints as webhooks_endpoints
from shared.api import Api

# The services behind the gateway: each one's declared endpoints (its endpoints.py,
# never its internals) are its public routes.
SERVICE_APIS: dict[str, Api] = {
    "membership": membership_endpoints.api,
    "events": events_endpoints.api,
    "notifications": notifications_endpoints.api,
    "contests": contests_endpoints.api,
    "webhooks": webhooks_endpoints.api,
}
# Everything that answers under /api/v1: the services' endpoints and the gateway's own.
PUBLIC_APIS: dict[str, Api] = {**SERVICE_APIS, "gateway": gateway_endpoints}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "in": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
}
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A partner API key (`lh_…`) or a staff token from POST /api/v1/auth/login (`lhs.…`)",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A partner API key"},
}


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    return build_document(PUBLIC_APIS)


def build_document(apis: Mapping[str, Api]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for api in apis.values():
        service_paths, service_schemas = api.openapi_paths()
        for path, item in service_paths.items():
            paths.setdefault(path, {}).update(item)
        schemas.update(service_schemas)
    # What partners receive (OpenAPI 3.1 `webhooks`), when the webhooks service is behind this gateway.
    webhooks, webhook_schemas = webhooks_endpoints.openapi_webhooks() if "webhooks" in apis else ({}, {})
    schemas.update(webhook_schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LienHiep API",
            "version": "1.0.0",
            "description": "The public API of LienHiep: organisations, members, events and registrations, "
            "notifications, staff logins and partner keys. Errors are RFC 9457 problem+json. "
            "Every answer carries X-Request-ID and RateLimit headers.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"apiKey": []}],
        "paths": dict(sorted(paths.items())),
        **({"webhooks": webhooks} if webhooks else {}),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": SECURITY_SCHEMES},
    }
