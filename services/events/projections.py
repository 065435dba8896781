"""The members and organisations events knows, kept from membership's events (never a
call to membership): who may come to members-only events, who organises, and the
organisation tree that decides every caller's reach.

Newest wins: a late, older event matches nothing and its upsert collides on `_id`.
The filters put their `$or` inside `$and` (the embedded store ignores conditions
beside a top-level `$or` in writes; tests/integration/test_store_shapes.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.events.records import MemberDoc, OrganizationDoc
from services.events.store import MEMBERS, ORGANIZATIONS
from shared.clock import now_utc
from shared.contracts import MemberContact, OrganizationChanged


def _not_newer_than(key: str, moment: datetime) -> dict[str, Any]:
    return {"$and": [{"_id": key}, {"$or": [{"as_of": {"$lte": moment}}, {"as_of": {"$exists": False}}]}]}


class MemberProjection:
    def __init__(self, db: AsyncDatabase) -> None:
        self.members = db[MEMBERS]

    async def apply(self, member: MemberContact, event_time: datetime) -> bool:
        """True if applied (false for an older copy of what is known)."""
        fields = {
            "status": member.status,
            "organization_ids": member.organization_ids,
            "full_name": member.full_name,
            "email": member.email,
            "phone": member.phone,
            "language": member.language,
            "as_of": event_time,
        }
        try:
            result = await self.members.update_one(
                _not_newer_than(member.member_id, event_time), {"$set": fields}, upsert=True
            )
        except DuplicateKeyError:
            return False
        return result.matched_count == 1 or result.upserted_id is not None

    async def erase(self, member_id: str) -> None:
        await self.members.update_one(
            {"_id": member_id},
            {"$set": {"status": "erased", "as_of": now_utc()}, "$unset": {"full_name": "", "email": "", "phone": ""}},
            upsert=True,
        )

    async def get(self, member_id: str) -> MemberDoc | None:
        return cast(Any, await self.members.find_one({"_id": member_id}))


class OrganizationProjection:
    def __init__(self, db: AsyncDatabase) -> None:
        self.orgs = db[ORGANIZATIONS]

    async def apply(self, org: OrganizationChanged, event_time: datetime) -> bool:
        fields = {
            "code": org.code,
            "code_key": org.code.strip().lower(),
            "name": org.name,
            "kind": org.kind,
            "parent_id": org.parent_id,
            "status": org.status,
            "as_of": event_time,
        }
        try:
            result = await self.orgs.update_one(
                _not_newer_than(org.organization_id, event_time), {"$set": fields}, upsert=True
            )
        except DuplicateKeyError:
            return False
        return result.matched_count == 1 or result.upserted_id is not None

    async def federation_name(self) -> str | None:
        """The name of the tree's root (the federation), once membership has announced it."""
        root = await self.orgs.find_one({"parent_id": None, "kind": "federation"}, {"name": 1})
        return root["name"] if root else None

    async def resolve(self, id_or_code: str) -> OrganizationDoc | None:
        """An organisation by id, or else by code (any case)."""
        found = await self.orgs.find_one({"_id": id_or_code})
        return cast(Any, found or await self.orgs.find_one({"code_key": id_or_code.strip().lower()}))

    async def names(self, ids: Iterable[str]) -> dict[str, OrganizationDoc]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {d["_id"]: cast(Any, d) async for d in self.orgs.find({"_id": {"$in": wanted}}, {"code": 1, "name": 1})}

    async def parents(self) -> dict[str, str | None]:
        """The whole tree as child → parent (shared.access.OrganizationTree reads it)."""
        return {d["_id"]: d.get("parent_id") async for d in self.orgs.find({}, {"parent_id": 1})}
