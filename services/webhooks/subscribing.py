"""Registering and managing webhook endpoints: URL, event types, contact, secret.

The URL is checked as far as it can be without resolving it (http(s), no credentials,
no non-public address literal); the addresses a host name resolves to are checked at
every delivery (transport.py). The event types must be ones partners may hear, each
within the key's scopes. The secret is shown once, at registration or rotation; a
rotation keeps the old secret signing too for an overlap, so a partner can switch
without losing a delivery.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from services.webhooks import signing
from services.webhooks.addresses import AddressPolicy, AddressRefused
from services.webhooks.announcements import changed_notice
from services.webhooks.catalogue import MESSAGES
from services.webhooks.endpoints import OFFERED, EndpointIn, EndpointPatch, EndpointQuery, Offer
from services.webhooks.ownership import Ownership
from services.webhooks.store import DeliveryStore, EndpointDoc, EndpointStore
from shared.clock import epoch, now_utc
from shared.contracts import Envelope
from shared.errors import Conflict, FieldError, Invalid, invalid_field
from shared.identity import Identity
from shared.logging import get_logger

log = get_logger(__name__)
MAX_ENDPOINTS_PER_KEY = 20
URL_REASONS = {"scheme", "credentials", "non-public-address"}
PUBLISH_SECONDS = 2.0  # a removal's notice waits no longer for a broker that does not answer


class Subscriptions:
    def __init__(
        self,
        endpoints: EndpointStore,
        deliveries: DeliveryStore,
        owners: Ownership,
        policy: AddressPolicy,
        secret_key: bytes,
        publish: Callable[[Envelope], Awaitable[None]],
    ) -> None:
        self.endpoints = endpoints
        self.publish = publish
        self.deliveries = deliveries
        self.owners = owners
        self.policy = policy
        self.secret_key = secret_key

    async def offers(self, who: Identity) -> dict[str, Any]:
        await self.owners.caller(who)
        return {"items": [Offer(type=t, scope=s, description=d) for t, (s, d, _) in OFFERED.items()]}

    async def register(self, who: Identity, body: EndpointIn) -> dict[str, Any]:
        await self.owners.caller(who)
        owner = self.owners.owner_for_new(who, body.key_prefix)
        self._check_url(body.url)
        if await self.endpoints.key_revoked(owner):
            raise Conflict(MESSAGES("webhooks.key_revoked"))
        await self._check_scopes(owner, body.event_types)
        if await self.endpoints.count_of(owner) >= MAX_ENDPOINTS_PER_KEY:
            raise Conflict(MESSAGES("webhooks.too_many_endpoints", limit=MAX_ENDPOINTS_PER_KEY))
        now = now_utc()
        doc: EndpointDoc = {
            "_id": uuid.uuid4().hex,
            "key_prefix": owner,
            "url": body.url,
            "event_types": sorted(set(body.event_types)),
            "description": body.description,
            "contact_email": str(body.contact_email),
            "language": body.language,
            "state": "active",
            "disabled_reason": None,
            "disabled_at": None,
            "failing_since": 0.0,
            "secret_salt": secrets.token_hex(16),
            "previous_secret_salt": None,
            "previous_secret_until": 0.0,
            "created_at": now,
            "created_epoch": now.timestamp(),
            "created_by": who.sub,
            "updated_at": now,
        }
        await self.endpoints.add(doc)
        log.info("webhooks.endpoint_registered", endpoint_id=doc["_id"], key_prefix=owner, by=who.sub)
        return {**await self.view(doc), "secret": self._secret(doc["_id"], doc["secret_salt"])}

    async def page(self, who: Identity, query: EndpointQuery) -> dict[str, Any]:
        await self.owners.caller(who)
        owner = self.owners.listing_owner(who, query.key_prefix)
        docs = await self.endpoints.page(owner, query.state, query.limit, query.offset)
        known = await self.endpoints.grants([d["key_prefix"] for d in docs])
        return {
            "items": [await self.view(d, awaiting=d["key_prefix"] not in known) for d in docs],
            "next_offset": query.offset + query.limit if len(docs) == query.limit else None,
        }

    async def show(self, who: Identity, endpoint_id: str) -> dict[str, Any]:
        return await self.view(await self.owners.endpoint(who, endpoint_id))

    async def change(self, who: Identity, endpoint_id: str, patch: EndpointPatch) -> dict[str, Any]:
        endpoint = await self.owners.endpoint(who, endpoint_id)
        fields = {**await self._details(endpoint, patch), **await self._switch(endpoint, patch.enabled)}
        changed = await self.endpoints.change(endpoint_id, fields) if fields else endpoint
        if fields.get("state") == "paused":
            await self.deliveries.cancel_pending(endpoint_id, "endpoint paused")
        return await self.view(changed or endpoint)

    async def _details(self, endpoint: EndpointDoc, patch: EndpointPatch) -> dict[str, Any]:
        """The checked changes of URL, event types, description, contact and language."""
        given = patch.model_dump(exclude_unset=True)
        fields: dict[str, Any] = {k: given[k] for k in ("description",) if k in given}
        fields.update({k: str(given[k]) for k in ("url", "contact_email", "language") if given.get(k) is not None})
        if "url" in fields:
            self._check_url(fields["url"])
        if patch.event_types:
            await self._check_scopes(endpoint["key_prefix"], patch.event_types)
            fields["event_types"] = sorted(set(patch.event_types))
        return fields

    async def _switch(self, endpoint: EndpointDoc, enabled: bool | None) -> dict[str, Any]:
        """Pause an active endpoint, or resume a paused or disabled one (not a revoked key's)."""
        if enabled is True and endpoint["state"] != "active":
            if await self.endpoints.key_revoked(endpoint["key_prefix"]):
                raise Conflict(MESSAGES("webhooks.key_revoked"))
            return {"state": "active", "disabled_reason": None, "disabled_at": None, "failing_since": 0.0}
        if enabled is False and endpoint["state"] == "active":
            return {"state": "paused"}
        return {}

    async def remove(self, who: Identity, endpoint_id: str) -> None:
        await self.owners.endpoint(who, endpoint_id)
        await self.endpoints.remove(endpoint_id)
        await self._tell_removed(endpoint_id)
        await self.deliveries.drop_endpoint(endpoint_id)
        log.info("webhooks.endpoint_removed", endpoint_id=endpoint_id, by=who.sub)

    async def _tell_removed(self, endpoint_id: str) -> None:
        """Tell every replica's fan-out, straight on the bus: the other writes carry their
        notice through the outbox (store.py), but a deleted document cannot. Losing this
        one (the broker away, a crash just now) costs nothing a partner sees: the
        deliveries another replica still makes for the endpoint until its safety-net read
        are cancelled unsent by the dispatcher, which reads the endpoint before sending."""
        try:
            async with asyncio.timeout(PUBLISH_SECONDS):
                await self.publish(changed_notice(endpoint_id, "removed"))
        except Exception as exc:
            log.warning("webhooks.removal_not_announced", endpoint_id=endpoint_id, error=type(exc).__name__)

    async def rotate(self, who: Identity, endpoint_id: str, overlap_hours: float) -> dict[str, Any]:
        endpoint = await self.owners.endpoint(who, endpoint_id)
        salt = secrets.token_hex(16)
        until = epoch(plus_seconds=overlap_hours * 3600) if overlap_hours > 0 else 0.0
        await self.endpoints.change(
            endpoint_id,
            {"secret_salt": salt, "previous_secret_salt": endpoint["secret_salt"], "previous_secret_until": until},
        )
        log.info("webhooks.secret_rotated", endpoint_id=endpoint_id, by=who.sub, overlap_hours=overlap_hours)
        return {
            "endpoint_id": endpoint_id,
            "secret": self._secret(endpoint_id, salt),
            "previous_secret_valid_until": datetime.fromtimestamp(until, UTC) if until else None,
        }

    async def key_revoked(self, key_prefix: str) -> int:
        """The gateway revoked a key: it hears nothing more, and its endpoints are disabled."""
        await self.endpoints.revoke_key(key_prefix)
        disabled = 0
        for endpoint_id in await self.endpoints.of_key(key_prefix):
            done = await self.endpoints.change_if(
                {"_id": endpoint_id, "state": {"$in": ["active", "paused"]}},
                {"state": "disabled", "disabled_reason": "key_revoked", "disabled_at": now_utc()},
            )
            await self.deliveries.cancel_pending(endpoint_id, "key revoked")
            disabled += done is not None
        log.info("webhooks.key_revoked", key_prefix=key_prefix, endpoints_disabled=disabled)
        return disabled

    async def view(self, doc: EndpointDoc, *, awaiting: bool | None = None) -> dict[str, Any]:
        if awaiting is None:
            awaiting = not await self.endpoints.grants([doc["key_prefix"]])
        until = doc.get("previous_secret_until") or 0.0
        failing = doc.get("failing_since") or 0.0
        return {
            "id": doc["_id"],
            **{k: doc[k] for k in ("key_prefix", "url", "event_types", "description", "contact_email", "language")},
            "state": doc["state"],
            "disabled_reason": doc.get("disabled_reason"),
            "disabled_at": doc.get("disabled_at"),
            "failing_since": datetime.fromtimestamp(failing, UTC) if failing else None,
            "awaiting_key": awaiting,
            "previous_secret_valid_until": datetime.fromtimestamp(until, UTC) if until > epoch() else None,
            "created_at": doc["created_at"],
            "updated_at": doc["updated_at"],
        }

    # --- checks -------------------------------------------------------------------------

    def _secret(self, endpoint_id: str, salt: str) -> str:
        return signing.derive_secret(self.secret_key, endpoint_id, salt)

    def _check_url(self, url: str) -> None:
        try:
            self.policy.check_url(url)
        except AddressRefused as exc:
            reason = exc.reason if exc.reason in URL_REASONS else "malformed"
            raise invalid_field("url", MESSAGES(f"webhooks.url.{reason}"), f"url-{reason}") from None

    async def _check_scopes(self, owner: str, event_types: list[str]) -> None:
        """Each type within the key's scopes, when the key is known (else it is judged per delivery)."""
        grant = (await self.endpoints.grants([owner])).get(owner)
        if grant is None:
            return
        wrong = [
            FieldError(f"event_types.{i}", MESSAGES("webhooks.scope_missing", scope=OFFERED[t][0]), "scope-missing")
            for i, t in enumerate(event_types)
            if OFFERED[t][0] not in grant["scopes"]
        ]
        if wrong:
            raise Invalid(*wrong)
