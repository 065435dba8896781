"""The gateway's own database: partner keys, staff accounts, sessions, traffic counters.

Times that are compared (revocation, lockout, expiry, last use, presence) are epoch
numbers, as the embedded store compares numbers reliably; flags are epoch numbers
too (`revoked_at`, `disabled_at`) rather than booleans.
"""

from __future__ import annotations

import time
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.http import Conflict, NotFound
from shared.mongo import IndexSpec

KEYS, STAFF, SESSIONS, TRAFFIC, PRESENCE = "api_keys", "staff", "sessions", "traffic", "presence"
INDEXES = [
    IndexSpec(SESSIONS, [("username", 1)]),
    IndexSpec(PRESENCE, [("seen", 1)]),
    IndexSpec(KEYS, [("created", 1)]),
]


class DuplicateStaff(Conflict):
    code, title = "duplicate-staff", "A staff account with this username exists"


class GatewayStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self.keys = db[KEYS]
        self.staff = db[STAFF]
        self.sessions = db[SESSIONS]
        self.traffic = db[TRAFFIC]
        self.presence = db[PRESENCE]

    # --- partner keys -------------------------------------------------------------

    async def add_key(self, doc: dict[str, Any]) -> None:
        await self.keys.insert_one(doc)

    async def key(self, prefix: str) -> dict[str, Any] | None:
        return await self.keys.find_one({"_id": prefix})

    async def list_keys(self) -> list[dict[str, Any]]:
        return [d async for d in self.keys.find({}, {"hash": 0}).sort("created", -1)]

    async def revoke_key(self, prefix: str, now: float) -> dict[str, Any]:
        doc = await self.keys.find_one_and_update(
            {"_id": prefix}, {"$set": {"revoked_at": now}}, projection={"hash": 0}, return_document=ReturnDocument.AFTER
        )
        if doc is None:
            raise NotFound("No API key with this id")
        return doc

    async def touch_key(self, prefix: str, now: float) -> None:
        await self.keys.update_one({"_id": prefix}, {"$set": {"last_used_at": now}})

    # --- staff --------------------------------------------------------------------

    async def staff_count(self) -> int:
        return await self.staff.count_documents({})

    async def add_staff(self, doc: dict[str, Any]) -> None:
        try:
            await self.staff.insert_one(doc)
        except DuplicateKeyError:
            raise DuplicateStaff("Choose another username", field="username") from None

    async def staff_member(self, username: str) -> dict[str, Any] | None:
        return await self.staff.find_one({"_id": username})

    async def list_staff(self) -> list[dict[str, Any]]:
        return [d async for d in self.staff.find({}, {"password_hash": 0}).sort("_id", 1)]

    async def login_failed(self, username: str, attempts: int, lockout_seconds: int, now: float) -> int:
        doc = await self.staff.find_one_and_update(
            {"_id": username}, {"$inc": {"failed_logins": 1}}, return_document=ReturnDocument.AFTER
        )
        failed = int((doc or {}).get("failed_logins", 0))
        if failed >= attempts:
            await self.staff.update_one(
                {"_id": username}, {"$set": {"locked_until": now + lockout_seconds, "failed_logins": 0}}
            )
        return failed

    async def login_succeeded(self, username: str, now: float) -> None:
        await self.staff.update_one(
            {"_id": username}, {"$set": {"failed_logins": 0, "locked_until": 0, "last_login_at": now}}
        )

    async def update_staff(self, username: str, changes: dict[str, Any]) -> dict[str, Any]:
        doc = await self.staff.find_one_and_update(
            {"_id": username}, {"$set": changes}, projection={"password_hash": 0}, return_document=ReturnDocument.AFTER
        )
        if doc is None:
            raise NotFound("No staff account with this username")
        return doc

    # --- sessions -----------------------------------------------------------------

    async def open_session(self, sid: str, username: str, exp: float, started: float) -> None:
        await self.sessions.insert_one(
            {"_id": sid, "username": username, "exp": exp, "started": started, "revoked_at": 0}
        )

    async def end_for_refresh(self, sid: str, at: float) -> bool:
        """Mark a session as replaced (it ends at `at`); False if it had already ended or been replaced,
        so one token is refreshed once."""
        result = await self.sessions.update_one({"_id": sid, "revoked_at": 0}, {"$set": {"revoked_at": at}})
        return result.modified_count == 1

    async def session(self, sid: str) -> dict[str, Any] | None:
        return await self.sessions.find_one({"_id": sid})

    async def revoke_session(self, sid: str, now: float) -> None:
        await self.sessions.update_one({"_id": sid}, {"$set": {"revoked_at": now}})

    async def revoke_sessions_of(self, username: str, now: float) -> list[str]:
        sids = [d["_id"] async for d in self.sessions.find({"username": username}, {"_id": 1})]
        if sids:
            await self.sessions.update_many({"_id": {"$in": sids}}, {"$set": {"revoked_at": now}})
        return sids

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


def now() -> float:
    return time.time()
