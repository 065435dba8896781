"""Administrators give partner systems API keys and take them back.

A key is shown once; only its HMAC is stored. Revoking carries a `credential.revoked`
event in the same write, so every gateway replica stops accepting the key within a
second.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from services.gateway import credentials
from services.gateway.catalogue import MESSAGES
from services.gateway.endpoints import ApiKey, ApiKeyCreated, ApiKeyIn, ApiKeyList
from services.gateway.identifying import Callers
from services.gateway.logging_in import PRODUCER
from services.gateway.store import ApiKeyDoc, GatewayStore, moment
from shared.clock import now_utc
from shared.contracts import CredentialRevoked, new_event
from shared.errors import FieldError, Invalid, NotFound

PREFIX = re.compile(r"[0-9a-f]{8}")


def unknown_scopes(scopes: list[str], known: Collection[str]) -> list[FieldError]:
    """The field error of each scope no endpoint requires."""
    choices = ", ".join(sorted(known))
    return [
        FieldError(f"scopes.{i}", MESSAGES("field.unknown_scope", known=choices), "unknown_scope")
        for i, scope in enumerate(scopes)
        if scope not in known
    ]


class PartnerKeys:
    def __init__(self, store: GatewayStore, callers: Callers, known_scopes: Collection[str]) -> None:
        self.store = store
        self.callers = callers
        self.known_scopes = frozenset(known_scopes)

    async def create(self, body: ApiKeyIn, by: str) -> ApiKeyCreated:
        unknown = unknown_scopes(body.scopes, self.known_scopes)
        if unknown:
            raise Invalid(*unknown)
        key, prefix = credentials.new_api_key()
        doc: ApiKeyDoc = {
            "_id": prefix,
            "name": body.name.strip(),
            "scopes": sorted(set(body.scopes)),
            "organization_id": body.organization_id,
            "hash": credentials.hash_key(key, self.callers.pepper),
            "created": now_utc(),
            "created_by": by,
            "revoked_at": None,
            "last_used_at": None,
        }
        await self.store.add_key(doc)
        return ApiKeyCreated(**shown(doc).model_dump(), key=key)

    async def list(self) -> ApiKeyList:
        return ApiKeyList(items=[shown(d) for d in await self.store.list_keys()])

    async def revoke(self, prefix: str) -> ApiKey:
        if not PREFIX.fullmatch(prefix):
            raise NotFound(MESSAGES("gateway.no_such_key"))
        event = new_event(CredentialRevoked(kind="api_key", id=prefix), producer=PRODUCER)
        doc = await self.store.revoke_key(prefix, now_utc(), [event])
        if doc is None:
            raise NotFound(MESSAGES("gateway.no_such_key"))
        self.callers.forget_key(prefix)
        return shown(doc)


def shown(doc: ApiKeyDoc) -> ApiKey:
    return ApiKey.model_validate(
        {
            "id": doc["_id"],
            "name": doc["name"],
            "scopes": list(doc.get("scopes", [])),
            "organization_id": doc.get("organization_id"),
            "created_at": moment(doc.get("created")),
            "created_by": doc["created_by"],
            "revoked_at": moment(doc.get("revoked_at")),
            "last_used_at": moment(doc.get("last_used_at")),
        }
    )
