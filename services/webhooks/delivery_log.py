"""What partners and staff see of deliveries, and what they may do about them: the
log per endpoint (every try's outcome, status code, latency and the first KiB of the
answer), sending a delivery again, a test call, and forgetting old deliveries.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.webhooks.catalogue import MESSAGES
from services.webhooks.dispatching import Dispatcher, new_delivery
from services.webhooks.endpoints import DeliveryQuery, TestHook
from services.webhooks.fanout import ERASED_BODY
from services.webhooks.ownership import Ownership
from services.webhooks.public_forms import body
from services.webhooks.store import AttemptDoc, DeliveryDoc, DeliveryStore
from shared.clock import epoch, now_utc
from shared.errors import Conflict, Gone, NotFound
from shared.i18n import DEFAULT_LANG, Lang
from shared.identity import Identity
from shared.logging import get_logger

log = get_logger(__name__)
TEST_NEVER_DUE_SECONDS = 10 * 365 * 86400.0


class DeliveryLog:
    def __init__(self, deliveries: DeliveryStore, owners: Ownership, dispatcher: Dispatcher, keep_days: int) -> None:
        self.deliveries = deliveries
        self.owners = owners
        self.dispatcher = dispatcher
        self.keep_days = keep_days

    async def page(self, who: Identity, endpoint_id: str, query: DeliveryQuery) -> dict[str, Any]:
        await self.owners.endpoint(who, endpoint_id)
        docs = await self.deliveries.page(endpoint_id, query.state, query.limit, query.offset)
        return {
            "items": [view(d) for d in docs],
            "next_offset": query.offset + query.limit if len(docs) == query.limit else None,
        }

    async def redeliver(self, who: Identity, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
        endpoint = await self.owners.endpoint(who, endpoint_id)
        if endpoint["state"] != "active":
            raise Conflict(MESSAGES("webhooks.not_active"))
        existing = await self.deliveries.get(delivery_id)
        if existing is None or existing["endpoint_id"] != endpoint_id or existing["trigger"] == "test":
            raise NotFound(MESSAGES("webhooks.delivery_not_found"))
        if existing["body"] == ERASED_BODY:
            raise Gone(MESSAGES("webhooks.erased"))
        again = await self.deliveries.again(delivery_id, endpoint_id, epoch())
        if again is None:
            raise Conflict(MESSAGES("webhooks.in_flight"))
        self.dispatcher.wake()
        log.info("webhooks.redelivery", delivery_id=delivery_id, endpoint_id=endpoint_id, by=who.sub)
        return view(again)

    async def test(self, who: Identity, endpoint_id: str, lang: Lang = DEFAULT_LANG) -> dict[str, Any]:
        """Send a signed `webhook.test` now, whatever the endpoint's state, and say how it
        answered; logged like any delivery, never retried, and it changes nothing else."""
        endpoint = await self.owners.endpoint(who, endpoint_id)
        form = TestHook(endpoint_id=endpoint_id, message=MESSAGES.text("webhooks.test_message", lang))
        test = body("webhook.test", now_utc(), form)
        delivery = new_delivery(endpoint, uuid.uuid4().hex, "webhook.test", test, member_id=None, trigger="test")
        # Held by this call; never due for the dispatcher, even if this process dies mid-call.
        delivery["lease_until"] = epoch(plus_seconds=self.deliveries.lease_seconds)
        delivery["lease_owner"] = uuid.uuid4().hex
        delivery["due"] = epoch(plus_seconds=TEST_NEVER_DUE_SECONDS)
        await self.deliveries.add([delivery])
        answer, attempt = await self.dispatcher.attempt(endpoint, delivery)
        outcome = {"last_status_code": answer.status_code, "last_error": answer.error, "finished_at": now_utc()}
        state = "delivered" if answer.outcome == "delivered" else "failed"
        await self.deliveries.settle(delivery, {"state": state, **outcome}, attempt)
        return {"delivery_id": delivery["_id"], "msg_id": delivery["msg_id"], "attempt": attempt_view(attempt)}

    async def purge(self) -> bool:
        """Forget finished deliveries older than the retention (a loop step: True while there is more)."""
        removed = await self.deliveries.purge_before(epoch(plus_seconds=-self.keep_days * 86400))
        if removed:
            log.info("webhooks.log_purged", deliveries=removed)
        return removed > 0


def view(doc: DeliveryDoc) -> dict[str, Any]:
    pending = doc["state"] == "pending"
    tries = sorted((doc.get("log") or {}).values(), key=lambda a: a["attempt"], reverse=True)
    return {
        "id": doc["_id"],
        "event_type": doc["event_type"],
        "event_id": doc["event_id"],
        "msg_id": doc["msg_id"],
        "state": doc["state"],
        "attempts": doc["attempts"],
        "next_try_at": datetime.fromtimestamp(doc["due"], UTC) if pending else None,
        "created_at": doc["created_at"],
        "finished_at": doc.get("finished_at"),
        "last_status_code": doc.get("last_status_code"),
        "last_error": doc.get("last_error"),
        "log": [attempt_view(a) for a in tries],
    }


def attempt_view(doc: AttemptDoc) -> dict[str, Any]:
    return {k: doc.get(k) for k in AttemptDoc.__annotations__ if k != "at_epoch"}
