"""The webhooks service's bus subscriptions, each next to its handler.

- `deliveries`: every event type partners may hear (endpoints.OFFERED, which includes
  `organization.*` and `member.*`, the projections reach needs) → FanOut. The bus's
  inbox runs it once per event; delivery ids make a second run harmless anyway.
- `revocations`: `credential.revoked` from the gateway → a revoked partner key's
  endpoints are disabled at once and it hears nothing more.

Acknowledgement: after the handler returned, that is after the deliveries (or the
disabling) are stored; a failure is retried with delay, then parked (shared/bus.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.webhooks.endpoints import OFFERED
from services.webhooks.fanout import FanOut
from services.webhooks.subscribing import Subscriptions
from shared.bus import EventBus
from shared.contracts import CredentialRevoked, Envelope, EventData


@dataclass
class WebhookHandlers:
    fanout: FanOut
    subscriptions: Subscriptions

    async def on_event(self, envelope: Envelope, data: EventData) -> None:
        """Any event partners may hear → its deliveries (projections kept on the way)."""
        await self.fanout.on_event(envelope, data)

    async def on_credential_revoked(self, envelope: Envelope, data: EventData) -> None:
        """A partner key was revoked (`id` is its prefix) → it hears nothing more. Ended staff logins are ignored."""
        assert isinstance(data, CredentialRevoked)
        if data.kind == "api_key":
            await self.subscriptions.key_revoked(data.id)


def subscribe(bus: EventBus, handlers: WebhookHandlers) -> None:
    bus.subscribe("deliveries", sorted(OFFERED), handlers.on_event)
    bus.subscribe("revocations", ["credential.revoked"], handlers.on_credential_revoked)
