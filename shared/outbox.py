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
a write (`notify`) and also looks every `poll_seconds`, so events left behind by a
crash between write and publish are sent when the service comes back. A crash after
publish and before removal publishes an event twice: consumers are idempotent (see
inbox.py).

Nobody has to remember to wake it: `OutboxWrites` watches the service's own store
client and wakes the relay after every acknowledged write to an outbox collection.
So the relay's look is only the safety net for what another process left behind
(30 s by default: one read per outbox collection, an idle platform hardly touches
the store), and an event refused by the broker is tried again when its back-off
ends, not at the next look.

A document's events go out in the order they happened. One event that the broker
keeps refusing while the connection is healthy (it cannot be routed, or is refused)
must not hold back the others of its document for ever: after `max_tries` it is
*set aside* (moved to `_outbox_aside` with the error), counted in /metrics, listed
for staff with the parked messages (shared/parking.py) and can be put back. A broker
outage sets nothing aside: those failures are waited out with back-off.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
from pymongo import UpdateOne, monitoring
from pymongo.asynchronous.collection import AsyncCollection

from shared.bus import EventBus
from shared.clock import epoch
from shared.contracts import Envelope
from shared.logging import get_logger
from shared.loops import BackgroundLoop
from shared.mongo import IndexSpec

log = get_logger(__name__)

PENDING = "_outbox_pending"
EVENTS = "_outbox"
REVISION = "_outbox_rev"
DUE = "_outbox_due"
TRIES = "_outbox_tries"
ASIDE = "_outbox_aside"  # event id → {"event": envelope JSON, "error": text, "at": epoch}
HAS_ASIDE = "_outbox_has_aside"
MAX_BACKOFF_SECONDS = 60.0
# At most one drain per this while writes keep coming: the first event after a quiet
# spell leaves at once, those of a burst wait at most this and go out together (one read
# and one clean-up for them all, and their consumers get them together to write them
# together: shared/projection.py).
PACE_SECONDS = 0.05
MAX_TRIES = 8  # with the back-off: about four minutes of refusals before an event is set aside

SET_ASIDE = Counter(
    "lienhiep_outbox_set_aside",
    "Events the outbox relay set aside after repeated refusals",
    ["collection", "event_type"],
)


def outbox_indexes(collection: str) -> list[IndexSpec]:
    """Declare these for every collection whose documents carry events."""
    return [
        IndexSpec(collection, [(PENDING, 1), (DUE, 1)], name=f"outbox_pending_{collection}"),
        IndexSpec(collection, [(HAS_ASIDE, 1)], sparse=True, name=f"outbox_aside_{collection}"),
    ]


def with_events(document: Mapping[str, Any], *events: Envelope) -> dict[str, Any]:
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
        poll_seconds: float = 30.0,
        batch: int = 200,
        max_tries: int = MAX_TRIES,
        pace_seconds: float = PACE_SECONDS,
    ) -> None:
        self.bus = bus
        self.pace_seconds = pace_seconds
        self._last_drain = -math.inf
        self.max_tries = max_tries
        self.collections = list(collections)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.published = 0
        # The earliest back-off end of a refused event (epoch), kept until a step that
        # begins after it has read everything: a wake-up before then must not forget it.
        self._retry_at: float | None = None
        # Collections written and not yet read by a drain that succeeded: a wake-up
        # reads only those; the look every `poll_seconds` (and a retry) reads them all.
        self._written: set[str] = set()
        self._last_full_look = 0.0
        self._loop = BackgroundLoop("outbox-relay", self._step, idle_seconds=poll_seconds)

    def notify(self, collection: str | None = None) -> None:
        """Tell the relay new events were written, to `collection` (its name) or to any
        (it would find them anyway, at its next look)."""
        self._written.update([collection] if collection else (c.name for c in self.collections))
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

    async def _step(self) -> bool | float:
        """Publish everything due; then wait for a write's wake-up, the next look, or the
        end of a refused event's back-off, whichever comes first. A step that fails (the
        store did not answer) leaves what it was to read to the next step."""
        wait = self._last_drain + self.pace_seconds - time.monotonic()
        if wait > 0:  # in a burst: the writes of the next moment join this drain
            await asyncio.sleep(wait)
        self._last_drain = time.monotonic()
        retry_at, last_full_look = self._retry_at, self._last_full_look
        retry_due = retry_at is not None and retry_at <= epoch()
        everywhere = retry_due or time.monotonic() - last_full_look >= self.poll_seconds
        written, self._written = self._written, set()
        if retry_due:
            self._retry_at = None  # this drain tries them again; a new refusal sets it anew
        try:
            if everywhere:
                self._last_full_look = time.monotonic()
                await self.drain()
            else:  # a wake-up: only the collections written (a back-off not yet ended is kept)
                await self.drain([c for c in self.collections if c.name in written])
        except BaseException:
            self._written |= written
            self._last_full_look = last_full_look
            if retry_at is not None:
                self._retry_at = retry_at if self._retry_at is None else min(self._retry_at, retry_at)
            raise
        return False if self._retry_at is None else max(0.0, self._retry_at - epoch())

    async def drain(self, collections: Sequence[AsyncCollection] | None = None) -> int:
        """Publish every due event (of `collections`, or of all); return how many were published."""
        total = 0
        for collection in self.collections if collections is None else collections:
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
        for doc, outcome in zip(docs, results, strict=True):
            sent += len(outcome.published)
            remove = {f"{EVENTS}.{event_id}": "" for event_id in outcome.published}
            if outcome.refused is not None:
                retry_later.append(self._after_refusal(collection, doc, outcome, remove, now))
            else:
                update: dict[str, Any] = {"$set": {PENDING: False, TRIES: 0}}
                if remove:
                    update["$unset"] = remove
                cleared.append(UpdateOne({"_id": doc["_id"], REVISION: doc.get(REVISION)}, update))
                if remove:
                    fallback.append(UpdateOne({"_id": doc["_id"]}, {"$unset": remove}))
        if retry_later:
            await collection.bulk_write(retry_later, ordered=False)
        if cleared:
            result = await collection.bulk_write(cleared, ordered=False)
            if result.matched_count < len(cleared) and fallback:
                await collection.bulk_write(fallback, ordered=False)  # $unset twice is harmless
        return sent, len(docs)

    def _after_refusal(
        self, collection: AsyncCollection, doc: dict[str, Any], outcome: _Outcome, remove: dict[str, str], now: float
    ) -> UpdateOne:
        """Back off; an event refused `max_tries` times while the broker was up is set aside."""
        event_id, raw, error = outcome.refused  # type: ignore[misc]
        tries = int(doc.get(TRIES) or 0) + (1 if outcome.counts else 0)
        due = now + min(MAX_BACKOFF_SECONDS, 0.5 * 2**tries)
        self._retry_at = due if self._retry_at is None else min(self._retry_at, due)
        update: dict[str, Any] = {"$set": {DUE: due, TRIES: tries}}
        if outcome.counts and (tries >= self.max_tries or outcome.hopeless):
            event_type = outcome.refused_type or "unknown"
            log.error(
                "outbox.event_set_aside",
                collection=collection.name,
                event_id=event_id,
                event_type=event_type,
                tries=tries,
                error=error,
            )
            SET_ASIDE.labels(collection.name, event_type).inc()
            remove = {**remove, f"{EVENTS}.{event_id}": ""}
            update["$set"] = {
                DUE: now,
                TRIES: 0,
                HAS_ASIDE: True,
                f"{ASIDE}.{event_id}": {"event": raw, "error": error, "at": now, "tries": tries},
            }
        if remove:
            update["$unset"] = remove
        return UpdateOne({"_id": doc["_id"]}, update)

    async def _publish_document(self, doc: dict[str, Any]) -> _Outcome:
        """Publish a document's events in order; stop at the first refusal."""
        outcome = _Outcome()
        parsed: list[tuple[Envelope, str]] = []
        for event_id, raw in (doc.get(EVENTS) or {}).items():
            try:
                parsed.append((Envelope.model_validate_json(raw), raw))
            except ValueError as exc:  # unreadable: no try will ever publish it
                outcome.refuse(event_id, raw, f"unreadable event: {exc}"[:300], None, counts=True, hopeless=True)
                return outcome
        for envelope, raw in sorted(parsed, key=lambda pair: pair[0].occurred_at):
            try:
                await self.bus.publish(envelope)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("outbox.publish_failed", event_type=envelope.type, event_id=envelope.id, error=error)
                # Only refusals on a healthy connection count towards setting an event aside.
                outcome.refuse(envelope.id, raw, error, envelope.type, counts=self.bus.connected)
                return outcome
            outcome.published.append(envelope.id)
        return outcome

    # --- events set aside -----------------------------------------------------------

    async def set_aside(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events set aside, oldest first: where they are, why, and when."""
        found: list[dict[str, Any]] = []
        for collection in self.collections:
            async for doc in collection.find({HAS_ASIDE: True}, {ASIDE: 1}).limit(limit):
                for event_id, entry in (doc.get(ASIDE) or {}).items():
                    try:
                        event_type = Envelope.model_validate_json(entry["event"]).type
                    except ValueError:
                        event_type = "unreadable"
                    found.append(
                        {
                            "event_id": event_id,
                            "type": event_type,
                            "collection": collection.name,
                            "document_id": str(doc["_id"]),
                            "error": entry.get("error"),
                            "tries": entry.get("tries"),
                            "set_aside_at": entry.get("at"),
                        }
                    )
        return sorted(found, key=lambda e: e["set_aside_at"] or 0)[:limit]

    async def put_back(self) -> int:
        """Return every event set aside to its document's outbox, to be tried again."""
        moved = 0
        for collection in self.collections:
            async for doc in collection.find({HAS_ASIDE: True}, {ASIDE: 1}):
                aside = doc.get(ASIDE) or {}
                if not aside:
                    continue
                update = {
                    "$set": {
                        **{f"{EVENTS}.{eid}": e["event"] for eid, e in aside.items()},
                        PENDING: True,
                        DUE: epoch(),
                        TRIES: 0,
                        HAS_ASIDE: False,
                    },
                    "$unset": {f"{ASIDE}.{eid}": "" for eid in aside},
                    "$inc": {REVISION: 1},
                }
                await collection.update_one({"_id": doc["_id"]}, update)
                moved += len(aside)
        if moved:
            self.notify()
        return moved


@dataclass
class _Outcome:
    published: list[str] = field(default_factory=list)
    refused: tuple[str, str, str] | None = None  # event id, envelope JSON, error
    refused_type: str | None = None
    counts: bool = False  # the refusal counts towards setting the event aside
    hopeless: bool = False  # set it aside now: no try can ever publish it

    def refuse(
        self, event_id: str, raw: str, error: str, event_type: str | None, *, counts: bool, hopeless: bool = False
    ) -> None:
        self.refused, self.refused_type, self.counts, self.hopeless = (
            (event_id, raw, error),
            event_type,
            counts,
            hopeless,
        )


WRITE_COMMANDS = frozenset({"insert", "update", "findAndModify"})


class OutboxWrites(monitoring.CommandListener):
    """Wakes the relay after every acknowledged write to an outbox collection of one
    database (a store client's command listener): the outbox write itself is the signal
    that there is something to publish."""

    def __init__(self, database: str, collections: Sequence[str]) -> None:
        self.database = database
        self.collections = frozenset(collections)
        self.wake: Callable[[str], None] = lambda collection: None  # the relay's notify, once it exists
        self._writes: dict[int, str] = {}  # request id → collection, of outbox writes under way
        self._loop: asyncio.AbstractEventLoop | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if (
            event.command_name in WRITE_COMMANDS
            and event.database_name == self.database
            and event.command.get(event.command_name) in self.collections
            and _carries_events(event.command)
        ):
            self._writes[event.request_id] = event.command[event.command_name]

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        collection = self._writes.pop(event.request_id, None)
        if collection is not None:
            self._wake_in_loop(collection)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._writes.pop(event.request_id, None)

    def _wake_in_loop(self, collection: str) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self.wake(collection)
        except RuntimeError:  # called outside the loop's thread
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self.wake, collection)


def _carries_events(command: Any) -> bool:
    """Does this write leave events to publish (`with_events`, `push_events`, a put-back
    all set the pending flag)? Claims, leases and the relay's own removals do not, and
    must not wake it."""
    if "documents" in command:  # insert
        return any(doc.get(PENDING) for doc in command["documents"])
    changes = [u.get("u") for u in command.get("updates", ())] if "updates" in command else [command.get("update")]
    return any(_sets_pending(change) for change in changes)


def _sets_pending(change: Any) -> bool:
    if isinstance(change, list):  # an aggregation pipeline update
        return any(_sets_pending(stage) for stage in change)
    if not isinstance(change, dict):
        return False
    if PENDING in change:  # a replacement document
        return bool(change[PENDING])
    return any(bool((change.get(operator) or {}).get(PENDING)) for operator in ("$set", "$setOnInsert"))
