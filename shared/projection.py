"""Projections kept from events: one document per entity, the newest event wins.

Services keep local copies of what other services announce (members, organisations)
so they never call them. Such a copy is idempotent on its own: its write is filtered
on the time of the event it came from, so a redelivered copy writes the same values
again and an older event that arrives late matches nothing — its upsert then collides
on `_id`, collides again when tried once more, and is reported `stale` (the second try
is for two first writes of a key racing: the loser collides too, and may be the newer).
That write *is* the consumer's claim: subscriptions whose handlers only do this are
`idempotent` on the bus and take no inbox claim (shared/bus.py), one store command per
event instead of three.

Writes asked for in the same turn of the event loop (a consumer holds up to `prefetch`
messages) go to the store as one bulk write (shared/batching.py); a write the store
refuses fails its own caller only.

The event's time is compared as a number (`as_of_ts`, seconds since 1970, to the
microsecond): nx-27017 compares a datetime written by `$set` as text to the second
(tests/integration/test_store_shapes.py). `as_of` keeps the datetime for people.
The filter puts its `$or` inside `$and`: the embedded store ignores conditions beside
a top-level `$or` in writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shared.batching import GroupWrite
from shared.clock import epoch
from shared.mongo import bulk_write_each

Applied = Literal["new", "updated", "stale"]
AS_OF = "as_of"
AS_OF_TS = "as_of_ts"
LINGER_SECONDS = 0.005


@dataclass(frozen=True)
class _Write:
    key: str
    update: Mapping[str, Any]
    at: datetime


def newest_wins_filter(key: str, at: datetime) -> dict[str, Any]:
    """The document `key`, if what it holds is not newer than `at`."""
    ts = epoch(at)
    return {"$and": [{"_id": key}, {"$or": [{AS_OF_TS: {"$lte": ts}}, {AS_OF_TS: {"$exists": False}}]}]}


class NewestWins:
    """A collection of projected documents keyed by the entity's id."""

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection
        # Messages of a burst arrive a moment apart: their writes wait that moment to go together.
        self._writes: GroupWrite[_Write, Applied] = GroupWrite(self._write, linger_seconds=LINGER_SECONDS)

    async def apply(self, key: str, update: Mapping[str, Any], at: datetime) -> Applied:
        """Apply `update` (`$set`/`$unset`…) to document `key` as of the event time `at`:
        `new` (the document was made), `updated`, or `stale` (it knows something newer)."""
        return await self._writes.submit(_Write(key, update, at))

    async def _write(self, writes: list[_Write]) -> list[Applied | Exception]:
        outcomes = await self._bulk(writes)
        # A taken `_id`: the document knows something newer, or another writer made it between
        # our filter and our insert (two first writes of a key racing; MongoDB retries such an
        # upsert itself only when its filter is plain equality). Once more: now that the
        # document exists, the filter decides (older: updated; newer: stale again).
        again = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, DuplicateKeyError)]
        if again:
            retried: list[Applied | Exception]
            try:
                retried = await self._bulk([writes[i] for i in again])
            except Exception as exc:  # fails the retried writes only: the others are done
                retried = [exc] * len(again)
            for i, outcome in zip(again, retried, strict=True):
                outcomes[i] = "stale" if isinstance(outcome, DuplicateKeyError) else outcome
        return outcomes

    async def _bulk(self, writes: list[_Write]) -> list[Applied | Exception]:
        """One unordered bulk write: per write `new`, `updated` or its own error (a taken
        `_id` is a DuplicateKeyError). A write concern error is raised (shared/mongo.py)."""
        ops = [UpdateOne(newest_wins_filter(w.key, w.at), _stamped(w), upsert=True) for w in writes]
        result, refused = await bulk_write_each(self.collection, ops)
        made = {u["index"] for u in result.get("upserted", [])}
        return [refused.get(i) or ("new" if i in made else "updated") for i in range(len(writes))]


def _stamped(write: _Write) -> dict[str, Any]:
    update = {op: dict(fields) for op, fields in write.update.items()}
    update.setdefault("$set", {}).update({AS_OF: write.at, AS_OF_TS: epoch(write.at)})
    return update
