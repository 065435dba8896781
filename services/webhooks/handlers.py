"""The webhooks service's bus subscriptions, each next to its handler.

- `deliveries`: every event type partners may hear (endpoints.OFFERED, which includes
  `organization.*` and `member.*`, the projections reach needs) → FanOut. Idempotent
  (no inbox claim): see `on_event`.
- `revocations`: `credential.revoked` from the gateway → a revoked partner key's
  endpoints are disabled at once and it hears nothing more.
- `endpoint_changes`: a broadcast (a queue per replica, shared/bus.py) of
  `webhook.endpoint_changed`, which any replica publishes when it writes an endpoint →
  this replica's fan-out reads which endpoints listen again (listeners.py); so does a
  bus reconnect, since notices sent meanwhile were missed.

Acknowledgement: after the handler returned, that is after the deliveries (or the
disabling) are stored; a failure is retried with delay, then parked (shared/bus.py).
A broadcast is neither retried nor parked; marking the kept copy stale cannot fail.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.webhooks.endpoints import OFFERED
from services.webhooks.fanout import FanOut
from services.webhooks.subscribing import Subscriptions
from shared.bus import EventBus
from shared.contracts import CredentialRevoked, Envelope, EventData, WebhookEndpointChanged


@dataclass
class WebhookHandlers:
    fanout: FanOut
    subscriptions: Subscriptions

    async def on_event(self, envelope: Envelope, data: EventData) -> None:
        """Any event partners may hear → its deliveries (projections kept on the way).

        Idempotent by its own writes, so the bus takes no inbox claim: the projections are
        newest-wins (a copy handled twice writes the same values), a delivery's id is the
        event's and the endpoint's (a second insert is refused as a duplicate, and the
        dispatcher is woken only for new ones), and an erasure's scrubbing sets values
        (blank bodies, cancelled unsent deliveries) that a second run finds already set.
        Nothing else happens here: no counter, no announcement, no send."""
        await self.fanout.on_event(envelope, data)

    async def on_credential_revoked(self, envelope: Envelope, data: EventData) -> None:
        """A partner key was revoked (`id` is its prefix) → it hears nothing more. Ended staff logins are ignored.

        Idempotent by its own writes (no inbox claim): the key is marked revoked, its
        endpoints disabled only while still active or paused, their unsent deliveries
        cancelled — values a second run finds already set; nothing is announced."""
        assert isinstance(data, CredentialRevoked)
        if data.kind == "api_key":
            await self.subscriptions.key_revoked(data.id)

    async def on_endpoint_changed(self, envelope: Envelope, data: EventData) -> None:
        """An endpoint was written (here or on another replica) → read them again before the next fan-out."""
        assert isinstance(data, WebhookEndpointChanged)
        self.fanout.listeners.stale()


def subscribe(bus: EventBus, handlers: WebhookHandlers) -> None:
    bus.subscribe("deliveries", sorted(OFFERED), handlers.on_event, idempotent=True)
    bus.subscribe("revocations", ["credential.revoked"], handlers.on_credential_revoked, idempotent=True)
    bus.subscribe("endpoint_changes", ["webhook.endpoint_changed"], handlers.on_endpoint_changed, broadcast=True)
    bus.on_reconnect(handlers.fanout.listeners.stale)
