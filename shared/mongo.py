"""MongoDB access through PyMongo's asyncio API (`AsyncMongoClient`).

Motor, the driver our user named, reached end of life on 2026-05-14; PyMongo's
asyncio API is its successor by the same maintainers: the same API shape, native
asyncio instead of a thread pool.

Indexes are declared in code next to each store (`IndexSpec`) and created at
start-up. Duplicate-key errors are turned into domain errors with `duplicate_key`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    keys: list[tuple[str, int]]
    unique: bool = False
    sparse: bool = False
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def index_name(self) -> str:
        return self.name or "_".join(f"{k}_{d}" for k, d in self.keys)


def connect(url: str, listeners: Sequence[monitoring.CommandListener] = ()) -> AsyncMongoClient:
    """A client that returns timezone-aware datetimes (everything is stored in UTC),
    writing with `w: "majority"` and reading with read concern `majority`."""
    # socketTimeoutMS: a store that stops answering fails the operation instead of hanging it.
    # On a replica set a write is acknowledged once a majority keeps it (a failover never
    # rolls back an acknowledged registration or delivery), and reads see only what a
    # majority keeps — so a read after our own acknowledged write sees it, on any primary.
    # The embedded store (one node) accepts both and has nothing to wait for.
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        connectTimeoutMS=5000,
        socketTimeoutMS=120_000,
        w="majority",
        readConcernLevel="majority",
        event_listeners=list(listeners),
    )


async def ensure_indexes(db: AsyncDatabase, specs: Iterable[IndexSpec]) -> None:
    """Create the declared indexes (idempotent: an existing index is left as it is)."""
    for spec in specs:
        await db[spec.collection].create_index(
            spec.keys, unique=spec.unique, sparse=spec.sparse, name=spec.index_name, **spec.options
        )


class StoreAnswers(monitoring.CommandListener):
    """When the store last answered this client (a store client's command listener), so a
    readiness check need not send a ping of its own while the service is at work: an
    idle platform is probed every few seconds, and every ping is a round trip.
    A command that failed without an answer from the store (a network error, a
    timeout) makes the next check ask the store again."""

    def __init__(self) -> None:
        self._last = -math.inf

    def answered_within(self, seconds: float) -> bool:
        return time.monotonic() - self._last <= seconds

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._last = time.monotonic()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        failure = event.failure if isinstance(event.failure, dict) else {}
        if "code" in failure and failure["code"] not in CANNOT_SERVE:  # an error of the command's own
            self._last = time.monotonic()
        else:
            self._last = -math.inf


# Answers that say the store cannot serve now (no primary, shutting down, a host away),
# not that the command was wrong: readiness asks again.
CANNOT_SERVE = frozenset({6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436})


async def ping(db: AsyncDatabase) -> bool:
    try:
        await db.command("ping")
        return True
    except Exception:
        return False


DUPLICATE_KEY = 11000  # the server's code for a write refused because its key is taken


def write_error(error: Mapping[str, Any]) -> WriteError:
    """One refusal of a bulk write (an entry of `writeErrors`) as the write alone would have
    raised it: a `DuplicateKeyError` for a taken key, a `WriteError` otherwise."""
    kind = DuplicateKeyError if error.get("code") == DUPLICATE_KEY else WriteError
    return kind(error.get("errmsg") or "write refused", error.get("code"), dict(error))


def refused_writes(exc: BulkWriteError) -> dict[int, WriteError]:
    """The positions an unordered bulk write refused, each with its own error (the other
    writes were made). A write concern error (`w: majority` not confirmed in time) is raised
    again: every write of the batch may yet be rolled back, so none of them is done."""
    if exc.details.get("writeConcernErrors"):
        raise exc
    return {e["index"]: write_error(e) for e in exc.details.get("writeErrors") or []}


async def bulk_write_each(collection: Any, ops: Sequence[Any]) -> tuple[Mapping[str, Any], dict[int, WriteError]]:
    """One unordered bulk write: what it did (`nModified`, `upserted`… as `bulk_api_result`
    says) and the positions it refused, each with its own error (`refused_writes`: a write
    concern error is raised)."""
    try:
        return (await collection.bulk_write(list(ops), ordered=False)).bulk_api_result, {}
    except BulkWriteError as exc:
        return exc.details, refused_writes(exc)


async def insert_unless_taken(collection: Any, docs: Sequence[Mapping[str, Any]]) -> set[int]:
    """Insert `docs` (unordered); the positions refused because their key was taken.
    A document refused otherwise raises its error (the others are inserted)."""
    [outcome] = await insert_groups_unless_taken(collection, [docs])
    if isinstance(outcome, WriteError):
        raise outcome
    return outcome


async def insert_groups_unless_taken(
    collection: Any, groups: Sequence[Sequence[Mapping[str, Any]]]
) -> list[set[int] | WriteError]:
    """Insert the documents of several callers as one unordered insert (shared/batching.py).
    Per group: the positions in it refused because their key was taken, or the error of
    one of its documents refused otherwise (the other groups are not affected by it)."""
    docs = [doc for group in groups for doc in group]
    refused: dict[int, WriteError] = {}
    if docs:
        try:
            await collection.insert_many([dict(d) for d in docs], ordered=False)
        except BulkWriteError as exc:
            refused = refused_writes(exc)
    outcomes: list[set[int] | WriteError] = []
    start = 0
    for group in groups:
        mine = {i - start: refused[i] for i in range(start, start + len(group)) if i in refused}
        failed = [e for e in mine.values() if not isinstance(e, DuplicateKeyError)]
        outcomes.append(failed[0] if failed else set(mine))
        start += len(group)
    return outcomes


# MongoDB: "... index: email_1 dup key: { email: ... }"; nx-27017: "... index 'idx_members_email'"
_INDEX_IN_MESSAGE = re.compile(r"index:?\s+'?([\w.$-]+)'?")


def duplicate_key(exc: DuplicateKeyError) -> str:
    """The field (or index) a duplicate-key error is about, e.g. `email` or `_id`.

    Real MongoDB reports `keyPattern`; nx-27017 names its SQLite index
    (`idx_<collection>_<field>`), so both are understood.
    """
    details = exc.details or {}
    pattern = details.get("keyPattern")
    if pattern:
        return ",".join(pattern)
    match = _INDEX_IN_MESSAGE.search(str(details.get("errmsg") or exc))
    if not match:
        return "_id"
    index = match.group(1)
    for suffix in ("_1", "_-1"):
        index = index.removesuffix(suffix)
    if index.startswith("idx_"):
        # nx-27017 names indexes idx_<collection>_<fields>: keep the fields part.
        index = index.split("_", 2)[-1] if index.count("_") >= 2 else index
    return index or "_id"


# nx-27017 hands back a datetime written by an update (`$set`) as text such as
# "2026-11-27 09:29:57.104000"; real MongoDB hands back a datetime.
_NX_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?$")


def from_store(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document with every timestamp as an aware UTC datetime, whichever
    store wrote it. Nested documents are restored too."""
    return {key: _restore(value) for key, value in doc.items()}


def _restore(value: Any) -> Any:
    if isinstance(value, str) and _NX_DATETIME.match(value):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if isinstance(value, dict):
        return from_store(value)
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value
