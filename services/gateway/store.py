"""The gateway's own database: partner keys, staff accounts and their logins, login
guards, the callers' shared rate-limit buckets, traffic counters. Queries and writes
only, on the typed documents below; the use cases decide.

Moments people read (created, last used, revoked, disabled, last login) are BSON
datetimes in UTC (older documents hold epoch numbers: `moment` reads both). Machine
times compared by code (lock-out ends, token expiry, bucket refills, presence) are
epoch seconds. A write that ends a credential carries its event (shared/outbox.py),
so every gateway replica hears of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.contracts import Envelope
from shared.mongo import IndexSpec, from_store
from shared.outbox import push_events, strip_outbox

KEYS, STAFF, SESSIONS, GUARDS, BUCKETS = "api_keys", "staff", "sessions", "login_guards", "rate_buckets"
TRAFFIC, PRESENCE = "traffic", "presence"
OUTBOX = [KEYS, STAFF, SESSIONS]
INDEXES = [
    IndexSpec(SESSIONS, [("username", 1)]),
    IndexSpec(PRESENCE, [("seen", 1)]),
    IndexSpec(KEYS, [("created", 1)]),
    IndexSpec(STAFF, [("role", 1)]),
    IndexSpec(BUCKETS, [("at", 1)]),
    IndexSpec(GUARDS, [("at", 1)]),
]


class ApiKeyDoc(TypedDict, total=False):
    _id: str  # the key's visible prefix
    name: str
    scopes: list[str]
    organization_id: str | None
    hash: str  # HMAC of the whole key (credentials.hash_key)
    created: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


class StaffDoc(TypedDict, total=False):
    _id: str  # the username
    role: str  # "admin", "manager" or "judge"
    organization_id: str | None
    password_hash: str  # argon2id
    created: datetime
    created_by: str
    disabled_at: datetime | None
    last_login_at: datetime | None
    logins_generation: int  # bumped to end every login of the account at once


class SessionDoc(TypedDict, total=False):
    _id: str  # the session id a staff token carries
    username: str
    exp: float  # epoch: when its token expires
    started: float  # epoch: when the password was typed
    generation: int  # the account's logins_generation when it began
    revoked_at: float  # epoch; 0 while the login lasts


class LoginGuardDoc(TypedDict):
    _id: str  # keyed hash of a username, known or not (unknown ones are guarded alike)
    failed: int  # failed logins in a row
    locked_until: float  # epoch (absent or 0: not locked)
    at: float  # epoch of the last failure


class BucketDoc(TypedDict):
    _id: str  # keyed hash of the caller (a key, a login, a client address) and the limit
    tokens: float
    at: float  # epoch of `tokens`
    v: int  # version: every lease is a compare-and-set on it


def moment(value: Any) -> datetime | None:
    """A stored moment as an aware UTC datetime (datetime, text from the embedded store,
    or an epoch number from older documents); None for none."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        return from_store({"v": value})["v"] if value else None
    if isinstance(value, int | float) and value:
        return datetime.fromtimestamp(float(value), UTC)
    return None


class DuplicateUsername(Exception):
    pass


class GatewayStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.keys = db[KEYS]
        self.staff = db[STAFF]
        self.sessions = db[SESSIONS]
        self.guards = db[GUARDS]
        self.buckets = db[BUCKETS]
        self.traffic = db[TRAFFIC]
        self.presence = db[PRESENCE]

    # --- partner keys -------------------------------------------------------------

    async def add_key(self, doc: ApiKeyDoc) -> None:
        await self.keys.insert_one(dict(doc))

    async def key(self, prefix: str) -> ApiKeyDoc | None:
        doc = await self.keys.find_one({"_id": prefix})
        return _typed(doc)

    async def list_keys(self) -> list[ApiKeyDoc]:
        return [_typed(d) async for d in self.keys.find({}, {"hash": 0}).sort("created", -1)]

    async def revoke_key(self, prefix: str, now: datetime, events: Sequence[Envelope]) -> ApiKeyDoc | None:
        doc = await self.keys.find_one_and_update(
            {"_id": prefix},
            push_events({"$set": {"revoked_at": now}}, *events),
            projection={"hash": 0},
            return_document=ReturnDocument.AFTER,
        )
        return _typed(doc)

    async def touch_key(self, prefix: str, now: datetime) -> None:
        await self.keys.update_one({"_id": prefix}, {"$set": {"last_used_at": now}})

    # --- staff accounts -------------------------------------------------------------

    async def staff_count(self) -> int:
        return await self.staff.count_documents({})

    async def add_staff(self, doc: StaffDoc) -> None:
        try:
            await self.staff.insert_one(dict(doc))
        except DuplicateKeyError:
            raise DuplicateUsername(doc["_id"]) from None

    async def staff_member(self, username: str) -> StaffDoc | None:
        return _typed(await self.staff.find_one({"_id": username}))

    async def list_staff(self) -> list[StaffDoc]:
        return [_typed(d) async for d in self.staff.find({}, {"password_hash": 0}).sort("_id", 1)]

    async def admins(self) -> list[StaffDoc]:
        """Every administrator account, disabled ones included (there are few)."""
        return [_typed(d) async for d in self.staff.find({"role": "admin"}, {"password_hash": 0})]

    async def update_staff(
        self, username: str, changes: Mapping[str, Any], events: Sequence[Envelope], *, end_logins: bool = False
    ) -> StaffDoc | None:
        """Apply `changes`; with `end_logins`, every login of the account ends in the same write."""
        update: dict[str, Any] = {"$set": dict(changes)}
        if end_logins:
            update["$inc"] = {"logins_generation": 1}
        doc = await self.staff.find_one_and_update(
            {"_id": username},
            push_events(update, *events),
            projection={"password_hash": 0},
            return_document=ReturnDocument.AFTER,
        )
        return _typed(doc)

    # --- logins -----------------------------------------------------------------------

    async def open_session(self, doc: SessionDoc) -> None:
        await self.sessions.insert_one(dict(doc))

    async def session(self, sid: str) -> SessionDoc | None:
        return _typed(await self.sessions.find_one({"_id": sid}))

    async def end_session(self, sid: str, now: float, events: Sequence[Envelope]) -> None:
        await self.sessions.update_one({"_id": sid}, push_events({"$set": {"revoked_at": now}}, *events))

    async def end_for_refresh(self, sid: str, at: float, events: Sequence[Envelope]) -> bool:
        """Mark a live session as replaced by a refreshed one (it ends at `at`); False if it had
        already ended or been replaced, so one token is refreshed once."""
        result = await self.sessions.update_one(
            {"_id": sid, "revoked_at": 0}, push_events({"$set": {"revoked_at": at}}, *events)
        )
        return result.modified_count == 1

    async def login_guard(self, key: str) -> LoginGuardDoc | None:
        return _typed(await self.guards.find_one({"_id": key}))

    async def login_guards(self, keys: list[str]) -> dict[str, LoginGuardDoc]:
        return {d["_id"]: d async for d in self.guards.find({"_id": {"$in": keys}})}

    async def count_failure(self, key: str, now: float) -> int:
        """One more failed login in a row; the count after it."""
        doc = await self.guards.find_one_and_update(
            {"_id": key},
            {"$inc": {"failed": 1}, "$set": {"at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["failed"]) if doc else 1

    async def lock(self, key: str, until: float) -> None:
        await self.guards.update_one({"_id": key}, {"$set": {"locked_until": until, "failed": 0, "at": until}})

    async def clear_guard(self, key: str) -> None:
        await self.guards.delete_one({"_id": key})

    async def forget_old_guards(self, before: float) -> None:
        await self.guards.delete_many({"at": {"$lt": before}})

    # --- shared rate-limit buckets ---------------------------------------------------------

    async def bucket(self, key: str) -> BucketDoc | None:
        return _typed(await self.buckets.find_one({"_id": key}))

    async def create_bucket(self, key: str, tokens: float, at: float) -> bool:
        """False when another replica created it first."""
        try:
            await self.buckets.insert_one({"_id": key, "tokens": tokens, "at": at, "v": 1})
        except DuplicateKeyError:
            return False
        return True

    async def swap_bucket(self, key: str, version: int, tokens: float, at: float) -> bool:
        """Compare-and-set: False when another replica changed the bucket since `version`."""
        result = await self.buckets.update_one(
            {"_id": key, "v": version}, {"$set": {"tokens": tokens, "at": at}, "$inc": {"v": 1}}
        )
        return result.modified_count == 1

    async def forget_idle_buckets(self, before: float) -> None:
        await self.buckets.delete_many({"at": {"$lt": before}})

    # --- traffic ------------------------------------------------------------------

    async def add_traffic(self, counts: dict[str, int]) -> None:
        for period, n in counts.items():
            await self.traffic.update_one({"_id": period}, {"$inc": {"visits": n}}, upsert=True)

    async def traffic_counts(self, periods: list[str]) -> dict[str, int]:
        found = {d["_id"]: int(d.get("visits", 0)) async for d in self.traffic.find({"_id": {"$in": periods}})}
        return {p: found.get(p, 0) for p in periods}

    async def mark_present(self, clients: dict[str, float]) -> None:
        for client, seen in clients.items():
            await self.presence.update_one({"_id": client}, {"$set": {"seen": seen}}, upsert=True)

    async def online(self, since: float) -> int:
        return await self.presence.count_documents({"seen": {"$gte": since}})

    async def forget_absent(self, before: float) -> None:
        await self.presence.delete_many({"seen": {"$lt": before}})


def _typed(doc: Any) -> Any:
    """A stored document without the outbox's bookkeeping, timestamps restored."""
    return None if doc is None else from_store(strip_outbox(doc))
