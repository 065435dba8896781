"""The projections of members and organisations kept from membership's events: who an
author is, which organisations an entry belongs to (reach and conflicts of
interest), and their names. Never a call to membership; newest event wins
(shared/projection.py): a late, older event is `stale` and changes nothing, a copy
handled twice writes the same values again."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.contests.records import OrganizationDoc
from services.contests.store import MEMBERS, ORGANIZATIONS, loaded
from shared.clock import now_utc
from shared.contracts import MemberContact, OrganizationChanged
from shared.projection import Applied, NewestWins


class Projections:
    """Members and organisations as membership announces them (never a call to membership)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.members = db[MEMBERS]
        self.organizations = db[ORGANIZATIONS]
        self._members = NewestWins(self.members)
        self._organizations = NewestWins(self.organizations)

    async def apply_member(self, member: MemberContact, at: datetime) -> Applied:
        """`new` (a member contests never knew), `updated`, or `stale`."""
        fields = {
            "full_name": member.full_name,
            "email": member.email,
            "phone": member.phone,
            "language": member.language,
            "organization_ids": member.organization_ids,
            "status": member.status,
        }
        return await self._members.apply(member.member_id, {"$set": fields}, at)

    async def erase_member(self, member_id: str, at: datetime) -> None:
        """Forget their name and contact, as of now (at least the erasure's time): every
        older event still on its way then finds something newer and changes nothing."""
        await self._members.apply(
            member_id,
            {"$set": {"status": "erased"}, "$unset": {"full_name": "", "email": "", "phone": ""}},
            max(at, now_utc()),
        )

    async def members_by_id(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(ids))
        return {d["_id"]: loaded(d) async for d in self.members.find({"_id": {"$in": wanted}})} if wanted else {}

    async def apply_organization(self, org: OrganizationChanged, at: datetime) -> Applied:
        fields = {
            "code": org.code,
            "name": org.name,
            "kind": org.kind,
            "parent_id": org.parent_id,
            "status": org.status,
        }
        return await self._organizations.apply(org.organization_id, {"$set": fields}, at)

    async def parent_map(self) -> dict[str, str | None]:
        return {d["_id"]: d.get("parent_id") async for d in self.organizations.find({}, {"parent_id": 1})}

    async def organizations_by_id(self, ids: Iterable[str]) -> dict[str, OrganizationDoc]:
        wanted = sorted({i for i in ids if i})
        return {d["_id"]: loaded(d) async for d in self.organizations.find({"_id": {"$in": wanted}})} if wanted else {}
