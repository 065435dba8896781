"""Who may manage which webhook endpoint: a partner key its own, an administrator any
key's (by its prefix); nobody else. An endpoint of another key is *not found* (404),
never forbidden: its existence must not leak.

A key's scopes and organisation are what its own signed call says (the gateway signs
them, shared/identity.py); they are kept (store `keys`) because deliveries are made
later, without a caller. A key's grant never changes while it lives (the gateway can
only revoke it), so one write per key and process is enough.
"""

from __future__ import annotations

from services.webhooks.catalogue import MESSAGES
from services.webhooks.store import EndpointDoc, EndpointStore
from shared.errors import Forbidden, NotFound, invalid_field
from shared.identity import KEY_PREFIX, Identity


def key_prefix_of(who: Identity) -> str:
    return who.sub.removeprefix(KEY_PREFIX)


class Ownership:
    def __init__(self, endpoints: EndpointStore) -> None:
        self.endpoints = endpoints
        self._learnt: dict[str, tuple[tuple[str, ...], str | None]] = {}

    async def caller(self, who: Identity) -> Identity:
        """Refuse anyone but partner keys and administrators; keep what a key's call says of it."""
        if who.is_partner:
            prefix, grant = key_prefix_of(who), (tuple(sorted(who.scopes)), who.organization_id)
            if self._learnt.get(prefix) != grant:
                await self.endpoints.learn_key(prefix, grant[0], grant[1])
                self._learnt[prefix] = grant
            return who
        if who.is_admin:
            return who
        raise Forbidden(MESSAGES("webhooks.keys_and_admins_only"))

    def owner_for_new(self, who: Identity, key_prefix: str | None) -> str:
        """The key a new endpoint belongs to."""
        if who.is_partner:
            if key_prefix not in (None, key_prefix_of(who)):
                raise invalid_field("key_prefix", MESSAGES("webhooks.key_prefix_not_yours"), "not-yours")
            return key_prefix_of(who)
        if key_prefix is None:
            raise invalid_field("key_prefix", MESSAGES("webhooks.key_prefix_required"), "missing")
        return key_prefix

    def listing_owner(self, who: Identity, key_prefix: str | None) -> str | None:
        """Whose endpoints a listing shows: a key's own; an administrator's choice (None: all)."""
        return key_prefix_of(who) if who.is_partner else key_prefix

    async def endpoint(self, who: Identity, endpoint_id: str) -> EndpointDoc:
        """The endpoint, if `who` may manage it; 404 otherwise."""
        await self.caller(who)
        found = await self.endpoints.get(endpoint_id)
        if found is None or (who.is_partner and found["key_prefix"] != key_prefix_of(who)):
            raise NotFound(MESSAGES("webhooks.endpoint_not_found"))
        return found
