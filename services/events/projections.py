"""The members and organisations events knows, kept from membership's events (never a
call to membership): who may come to members-only events, who organises, and the
organisation tree that decides every caller's reach.

Newest wins (shared/projection.py, the platform's one implementation): a late, older
event changes nothing and is answered `stale`; a redelivered one writes the same
values again. So the write is its own claim and the subscriptions need no inbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from services.events.records import MemberDoc, OrganizationDoc
from services.events.store import MEMBERS, ORGANIZATIONS
from shared.clock import now_utc
from shared.contracts import MemberContact, OrganizationChanged
from shared.projection import Applied, NewestWins


class MemberProjection:
    def __init__(self, db: AsyncDatabase) -> None:
        self.members = db[MEMBERS]
        self._newest = NewestWins(self.members)

    async def apply(self, member: MemberContact, event_time: datetime) -> Applied:
        """`new` (a member events never knew), `updated`, or `stale` (an older copy of what is known)."""
        fields = {
            "status": member.status,
            "organization_ids": member.organization_ids,
            "full_name": member.full_name,
            "email": member.email,
            "phone": member.phone,
            "language": member.language,
        }
        return await self._newest.apply(member.member_id, {"$set": fields}, event_time)

    async def erase(self, member_id: str, event_time: datetime) -> None:
        """Forget their name and contact. As of now (not only the erasure's own time): every
        copy of an older event still on its way then finds something newer and is stale."""
        await self._newest.apply(
            member_id,
            {"$set": {"status": "erased"}, "$unset": {"full_name": "", "email": "", "phone": ""}},
            max(event_time, now_utc()),
        )

    async def get(self, member_id: str) -> MemberDoc | None:
        return cast(Any, await self.members.find_one({"_id": member_id}))


class OrganizationProjection:
    def __init__(self, db: AsyncDatabase) -> None:
        self.orgs = db[ORGANIZATIONS]
        self._newest = NewestWins(self.orgs)

    async def apply(self, org: OrganizationChanged, event_time: datetime) -> Applied:
        fields = {
            "code": org.code,
            "code_key": org.code.strip().lower(),
            "name": org.name,
            "kind": org.kind,
            "parent_id": org.parent_id,
            "status": org.status,
        }
        return await self._newest.apply(org.organization_id, {"$set": fields}, event_time)

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
