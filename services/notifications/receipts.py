"""Delivery receipts: a provider tells us whether a message it accepted reached the
person. The callback URL carries a signed token naming the provider (links.py)."""

from __future__ import annotations

from typing import Any

from services.notifications.endpoints import ReceiptIn, ZnsReceiptIn
from services.notifications.links import InvalidToken, Links
from services.notifications.messages import MESSAGES
from services.notifications.rules import receipt_outcome
from services.notifications.store import DeliveryStore
from shared.errors import NotFound, Problem


def invalid_receipt_token() -> Problem:
    return Problem(400, "invalid-token", MESSAGES("notifications.invalid_receipt_token"))


class Receipts:
    def __init__(self, deliveries: DeliveryStore, links: Links) -> None:
        self.deliveries = deliveries
        self.links = links

    def check(self, token: str, provider: str) -> None:
        try:
            self.links.check_receipt(token, provider)
        except InvalidToken:
            raise invalid_receipt_token() from None

    async def record(self, provider: str, token: str, body: ReceiptIn) -> dict[str, Any]:
        self.check(token, provider)
        key, status = receipt_outcome(body.request_id, body.status, body.RequestId, body.SendStatus)
        return await self.settle(key, status, body.error)

    async def record_zns(self, token: str, body: ZnsReceiptIn) -> dict[str, Any]:
        """Zalo's `user_received_message` marks the delivery (its tracking id) delivered."""
        self.check(token, "zns")
        key = str((body.message or {}).get("tracking_id") or "")
        if body.event_name != "user_received_message" or not key:
            raise NotFound(MESSAGES("notifications.no_sent_delivery"))
        return await self.settle(key, "delivered", None)

    async def settle(self, key: str, status: str, error: str | None) -> dict[str, Any]:
        if not await self.deliveries.mark_receipt(key, status, error):
            raise NotFound(MESSAGES("notifications.no_sent_delivery"))
        return {"delivery_key": key, "status": status}
