"""Scheduled work that fires exactly once, however many replicas run.

A due item is one document: `_id` a deterministic key (so scheduling twice is
harmless), `due` and `lease_until` as epoch numbers, `state` pending → done (or
cancelled), and a `payload`. Every replica runs a `Scheduler` loop that claims due
items with one atomic find-and-modify (a lease with an owner token), runs the job,
and marks the item done *in the same write as the events the job announces*
(the item's collection is an outbox collection). Only the lease holder can finish
an item, so a replica that lost its lease writes nothing; a replica that died
mid-job leaves a lease that expires, and the item is claimed again.

An idle scheduler does not poll fast: it sleeps until its next item is due (one
read), at most `max_idle_seconds`, and scheduling or moving an item in this process
wakes the schedulers of that collection at once. The poll is the safety net for
items another replica added (or left leased when it died).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.clock import epoch, now_utc
from shared.contracts import Envelope
from shared.logging import get_logger
from shared.loops import BackgroundLoop
from shared.mongo import IndexSpec
from shared.outbox import push_events

log = get_logger(__name__)

# The schedulers of this process, by the full name of the collection they run.
_WAKERS: dict[str, set[Callable[[], None]]] = defaultdict(set)

Job = Callable[[dict[str, Any]], Awaitable[Sequence[Envelope]]]


def due_item_indexes(collection: str) -> list[IndexSpec]:
    return [IndexSpec(collection, [("state", 1), ("due", 1)], name=f"due_{collection}")]


def _as_epoch(when: datetime | float) -> float:
    return epoch(when) if isinstance(when, datetime) else float(when)


class DueItems:
    """The items of one kind of scheduled work, in one collection."""

    def __init__(self, collection: AsyncCollection, lease_seconds: float = 60.0) -> None:
        self.collection = collection
        self.lease_seconds = lease_seconds

    async def schedule(self, key: str, due: datetime | float, payload: dict[str, Any]) -> bool:
        """Add an item; False if one with this key exists already (then it is left as it is)."""
        try:
            await self.collection.insert_one(
                {
                    "_id": key,
                    "state": "pending",
                    "due": _as_epoch(due),
                    "lease_until": 0.0,
                    "payload": payload,
                    "created_at": now_utc(),
                }
            )
        except DuplicateKeyError:
            return False
        self._wake_schedulers()
        return True

    async def reschedule(self, key: str, due: datetime | float) -> bool:
        """Move a pending item to a new time."""
        result = await self.collection.update_one({"_id": key, "state": "pending"}, {"$set": {"due": _as_epoch(due)}})
        if result.matched_count == 1:
            self._wake_schedulers()
        return result.matched_count == 1

    def _wake_schedulers(self) -> None:
        for wake in list(_WAKERS[self.collection.full_name]):
            wake()

    async def next_due(self, now: float | None = None) -> float | None:
        """When the next pending item falls due (epoch seconds), or None if none will."""
        now = epoch() if now is None else now
        item = await self.collection.find_one({"state": "pending", "due": {"$gt": now}}, {"due": 1}, sort=[("due", 1)])
        return float(item["due"]) if item is not None else None

    async def cancel(self, key: str) -> bool:
        result = await self.collection.update_one({"_id": key, "state": "pending"}, {"$set": {"state": "cancelled"}})
        return result.matched_count == 1

    async def claim(self, now: float | None = None) -> dict[str, Any] | None:
        """Take one due item for `lease_seconds`, or None if nothing is due."""
        now = epoch() if now is None else now
        return await self.collection.find_one_and_update(
            {"state": "pending", "due": {"$lte": now}, "lease_until": {"$lt": now}},
            {
                "$set": {"lease_until": now + self.lease_seconds, "lease_owner": uuid.uuid4().hex},
                "$inc": {"attempts": 1},
            },
            sort=[("due", 1)],
            return_document=ReturnDocument.AFTER,
        )

    async def finish(self, item: dict[str, Any], events: Sequence[Envelope] = ()) -> bool:
        """Mark a claimed item done and store its events, in one write; False if the lease was lost."""
        update = push_events({"$set": {"state": "done", "done_at": now_utc()}}, *events)
        result = await self.collection.update_one(
            {"_id": item["_id"], "state": "pending", "lease_owner": item["lease_owner"]}, update
        )
        return result.modified_count == 1

    async def release(self, item: dict[str, Any], retry_in: float) -> None:
        """Give a claimed item back, to be tried again in `retry_in` seconds."""
        await self.collection.update_one(
            {"_id": item["_id"], "state": "pending", "lease_owner": item["lease_owner"]},
            {"$set": {"lease_until": 0.0, "due": epoch(plus_seconds=retry_in)}},
        )


class Scheduler:
    """Runs due items of one kind: claim, run the job, finish (with its events)."""

    def __init__(
        self,
        items: DueItems,
        job: Job,
        *,
        name: str,
        poll_seconds: float = 1.0,
        max_idle_seconds: float = 30.0,
        retry_seconds: float = 30.0,
    ) -> None:
        self.items = items
        self.job = job
        self.name = name
        self.poll_seconds = poll_seconds
        self.max_idle_seconds = max_idle_seconds
        self.retry_seconds = retry_seconds
        self._loop = BackgroundLoop(
            f"scheduler-{name}", self._step, idle_seconds=poll_seconds, max_idle_seconds=max_idle_seconds
        )

    def start(self) -> None:
        _WAKERS[self.items.collection.full_name].add(self.notify)
        self._loop.start()

    def notify(self) -> None:
        """Something became due sooner than the next poll."""
        self._loop.notify()

    async def stop(self) -> None:
        _WAKERS[self.items.collection.full_name].discard(self.notify)
        await self._loop.stop()

    async def _step(self) -> bool | float:
        await self.run_due()
        # Everything due ran: sleep until the next item falls due (or a wake, or the poll).
        due = await self.items.next_due()
        return self.max_idle_seconds if due is None else max(0.0, due - epoch())

    async def run_due(self) -> int:
        """Run every item due now; returns how many this replica finished."""
        finished = 0
        while (item := await self.items.claim()) is not None:
            try:
                events = await self.job(item)
            except Exception:
                log.exception("scheduler.job_failed", scheduler=self.name, item=item["_id"])
                await self.items.release(item, self.retry_seconds)
                continue
            if await self.items.finish(item, events):
                finished += 1
            else:
                log.warning("scheduler.lease_lost", scheduler=self.name, item=item["_id"])
        return finished
