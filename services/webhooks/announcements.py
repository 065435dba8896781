"""What the webhooks service announces on the bus as itself."""

from __future__ import annotations

from shared.contracts import Envelope, WebhookEndpointChanged, new_event

PRODUCER = "webhooks"


def changed_notice(endpoint_id: str, change: str) -> Envelope:
    """What tells every replica's fan-out to read the endpoints again (listeners.py)."""
    return new_event(WebhookEndpointChanged(endpoint_id=endpoint_id, change=change), producer=PRODUCER)
