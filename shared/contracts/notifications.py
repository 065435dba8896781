"""Events the notifications service publishes."""

from __future__ import annotations

from typing import Literal

from shared.contracts.envelope import EventData, contract

__all__ = ["NotificationDelivered", "NotificationFailed"]


@contract("notification.delivered")
class NotificationDelivered(EventData):
    """A message was handed to its channel (SMTP accepted it, the SMS provider took it)."""

    delivery_key: str
    channel: Literal["email", "sms"]
    template: str
    member_id: str | None = None
    source_event_id: str


@contract("notification.failed")
class NotificationFailed(EventData):
    """A message could not be delivered and will not be retried."""

    delivery_key: str
    channel: Literal["email", "sms"]
    template: str
    member_id: str | None = None
    source_event_id: str
    reason: str
