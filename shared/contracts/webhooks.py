"""Events the webhooks service publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.contracts.envelope import EventData, contract
from shared.contracts.types import Language

__all__ = ["WebhookEndpointChanged", "WebhookEndpointDisabled"]


@contract("webhook.endpoint_disabled")
class WebhookEndpointDisabled(EventData):
    """A partner's webhook endpoint was disabled because it answered 410 Gone or kept failing;
    the technical contact named when it was registered is told by email."""

    endpoint_id: str
    url: str = Field(description="The endpoint's URL, as the partner registered it")
    description: str | None = None
    key_prefix: str = Field(description="Visible prefix of the partner key that owns the endpoint")
    reason: Literal["gone", "failing"] = Field(
        description="`gone`: it answered 410 Gone; `failing`: every delivery failed for days"
    )
    failing_since: datetime | None = Field(None, description="When deliveries began to fail (for `failing`)")
    disabled_at: datetime
    contact_email: str = Field(description="Who is told (the endpoint's technical contact)")
    language: Language = "vi"


@contract("webhook.endpoint_changed")
class WebhookEndpointChanged(EventData):
    """A webhook endpoint was registered, changed (paused, resumed, disabled, its event
    types or address…) or removed: every webhooks replica reads which endpoints listen
    again before its next fan-out (at once: they hear this event, not a timeout). Says
    which endpoint only; never its URL, secret or contact."""

    endpoint_id: str
    change: Literal["registered", "changed", "removed"]
