"""The transactional outbox.

A state change and the events it causes are stored in ONE write to ONE document:
the events ride along in the document's `_outbox` map, event id → envelope JSON
(`with_events` for an insert, `push_events` for an update). No multi-document
transaction is needed, so this works on a standalone MongoDB and on the embedded
store alike. (A map with `$set`/`$unset` of one key, not an array with
`$push`/`$pull`: nx-27017 turns pushed sub-documents into strings and its
conditional `$pull` removes too much; see tests/integration/test_store_shapes.py.)

`OutboxRelay` publishes pending events with publisher confirms and then removes
them from their document. It runs until none are pending; it is woken right after
a write (`notify`) and also polls, so events left behind by a crash between write
and publish are sent when the service comes back. A crash after publish and before
removal publishes an event twice: consumers are idempotent (see inbox.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shared.bus import EventBus
from shared.contracts import Envelope
from shared.logging import get_logger
from shared.loops import BackgroundLoop
from shared.mongo import IndexSpec, epoch

log = get_logger(__name__)

PENDING = "_outbox_pending"
EVENTS = "_outbox"
REVISION = "_outbox_rev"
DUE = "_outbox_due"
TRIES = "_outbox_tries"
MAX_BACKOFF_SECONDS = 60.0


def outbox_indexes(collection: str) -> list[IndexSpec]:
    """Declare these for every collection whose documents carry events."""
    return [IndexSpec(collection, [(PENDING, 1), (DUE, 1)], name=f"outbox_pending_{collection}")]


def with_events(document: dict[str, Any], *events: Envelope) -> dict[str, Any]:
    """The document to insert, carrying `events` for the relay."""
    return {
        **document,
        EVENTS: {e.id: e.model_dump_json() for e in events},
        PENDING: bool(events),
        REVISION: 1,
        DUE: epoch(),
    }


def push_events(update: dict[str, Any], *events: Envelope) -> dict[str, Any]:
    """`update` extended so that the same write also stores `events`."""
    if not events:
        return update
    merged = {op: dict(fields) for op, fields in update.items()}
    fields = merged.setdefault("$set", {})
    fields.update({f"{EVENTS}.{e.id}": e.model_dump_json() for e in events})
    fields.update({PENDING: True, DUE: epoch()})
    merged.setdefault("$inc", {})[REVISION] = 1
    return merged


def strip_outbox(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the relay's bookkeeping, for API answers."""
    return {k: v for k, v in document.items() if not k.startswith("_outbox")}


class OutboxRelay:
    """Publishes the pending events of some collections until none are left."""

    def __init__(
        self,
        bus: EventBus,
        collections: Sequence[AsyncCollection],
        *,
        poll_seconds: float = 1.0,
        batch: int = 200,
    ) -> None:
        self.bus = bus
        self.collections = list(collections)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.published = 0
        self._loop = BackgroundLoop("outbox-relay", self._step, idle_seconds=poll_seconds)

    def notify(self) -> None:
        """Tell the relay new events were written (it would find them anyway)."""
        self._loop.notify()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        # What is already written goes out before the process ends, if it can.
        try:
            await asyncio.wait_for(self.drain(), timeout=5)
        except Exception:
            log.warning("outbox.final_drain_failed")

    async def _step(self) -> bool:
        await self.drain()
        return False  # drain() publishes everything due; then wait for a notify or the poll

    async def drain(self) -> int:
        """Publish every due event; return how many were published."""
        total = 0
        for collection in self.collections:
            while True:
                sent, fetched = await self._drain_batch(collection)
                total += sent
                if fetched < self.batch:
                    break
        self.published += total
        return total

    async def _drain_batch(self, collection: AsyncCollection) -> tuple[int, int]:
        now = epoch()
        docs = (
            await collection.find({PENDING: True, DUE: {"$lte": now}}, {EVENTS: 1, REVISION: 1, TRIES: 1})
            .limit(self.batch)
            .to_list()
        )
        if not docs:
            return 0, 0
        results = await asyncio.gather(*(self._publish_document(doc) for doc in docs))
        cleared: list[UpdateOne] = []  # every event sent: clear the flag, unless events were added meanwhile
        fallback: list[UpdateOne] = []  # ... in which case only remove what was sent
        retry_later: list[UpdateOne] = []
        sent = 0
        for doc, (published, failed) in zip(docs, results, strict=False):
            sent += len(published)
            remove = {"$unset": {f"{EVENTS}.{event_id}": "" for event_id in published}} if published else {}
            if failed:
                tries = int(doc.get(TRIES) or 0) + 1
                backoff = min(MAX_BACKOFF_SECONDS, 0.5 * 2**tries)
                retry_later.append(
                    UpdateOne({"_id": doc["_id"]}, {**remove, "$set": {DUE: now + backoff, TRIES: tries}})
                )
            else:
                cleared.append(
                    UpdateOne(
                        {"_id": doc["_id"], REVISION: doc.get(REVISION)}, {**remove, "$set": {PENDING: False, TRIES: 0}}
                    )
                )
                if published:
                    fallback.append(UpdateOne({"_id": doc["_id"]}, remove))
        if retry_later:
            await collection.bulk_write(retry_later, ordered=False)
        if cleared:
            result = await collection.bulk_write(cleared, ordered=False)
            if result.matched_count < len(cleared) and fallback:
                await collection.bulk_write(fallback, ordered=False)  # $unset twice is harmless
        return sent, len(docs)

    async def _publish_document(self, doc: dict[str, Any]) -> tuple[list[str], bool]:
        """Publish a document's events in order; stop at the first failure."""
        published: list[str] = []
        envelopes = [Envelope.model_validate_json(raw) for raw in (doc.get(EVENTS) or {}).values()]
        for envelope in sorted(envelopes, key=lambda e: e.occurred_at):
            try:
                await self.bus.publish(envelope)
            except Exception as exc:
                log.warning(
                    "outbox.publish_failed",
                    event_type=envelope.type,
                    event_id=envelope.id,
                    error=f"{type(exc).__name__}: {exc}",
                )
                return published, True
            published.append(envelope.id)
        return published, False
