"""The projections of members and organisations kept from membership's events: who an
author is, which organisations an entry belongs to (reach and conflicts of
interest), and their names. Never a call to membership; newest event wins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.contests.records import OrganizationDoc
from services.contests.store import MEMBERS, ORGANIZATIONS, loaded
from shared.contracts import MemberContact, OrganizationChanged


class Projections:
    """Members and organisations as membership announces them (never a call to membership)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.members = db[MEMBERS]
        self.organizations = db[ORGANIZATIONS]

    async def apply_member(self, member: MemberContact, at: datetime) -> bool:
        fields = {
            "full_name": member.full_name,
            "email": member.email,
            "phone": member.phone,
            "language": member.language,
            "organization_ids": member.organization_ids,
            "status": member.status,
            "as_of": at,
        }
        return await self._newest(self.members, member.member_id, fields, at)

    async def erase_member(self, member_id: str, at: datetime) -> None:
        await self.members.update_one(
            {"_id": member_id},
            {"$set": {"status": "erased", "as_of": at}, "$unset": {"full_name": "", "email": "", "phone": ""}},
            upsert=True,
        )

    async def members_by_id(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(ids))
        return {d["_id"]: loaded(d) async for d in self.members.find({"_id": {"$in": wanted}})} if wanted else {}

    async def apply_organization(self, org: OrganizationChanged, at: datetime) -> bool:
        fields = {
            "code": org.code,
            "name": org.name,
            "kind": org.kind,
            "parent_id": org.parent_id,
            "status": org.status,
        }
        return await self._newest(self.organizations, org.organization_id, {**fields, "as_of": at}, at)

    async def parent_map(self) -> dict[str, str | None]:
        return {d["_id"]: d.get("parent_id") async for d in self.organizations.find({}, {"parent_id": 1})}

    async def organizations_by_id(self, ids: Iterable[str]) -> dict[str, OrganizationDoc]:
        wanted = sorted({i for i in ids if i})
        return {d["_id"]: loaded(d) async for d in self.organizations.find({"_id": {"$in": wanted}})} if wanted else {}

    @staticmethod
    async def _newest(collection: Any, key: str, fields: dict[str, Any], at: datetime) -> bool:
        """Newest wins: a late, older event matches nothing and collides on _id. True if applied."""
        try:
            result = await collection.update_one(
                # `$or` inside `$and`: beside other conditions of a write the embedded store ignores them
                {"$and": [{"_id": key}, {"$or": [{"as_of": {"$lte": at}}, {"as_of": {"$exists": False}}]}]},
                {"$set": fields},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return result.matched_count == 1 or result.upserted_id is not None
