"""How every use case writes a member: with its events, only if the member is still as
read, and with clear refusals — a clash on email or phone names the member who holds
it only when the caller reaches them; organisations must exist and be the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from services.membership.catalogue import MESSAGES
from services.membership.members import DuplicateMember, public_member
from services.membership.organizations import NotYours, event
from services.membership.reach import Deps
from services.membership.store import MemberDoc, Taken
from services.membership.tree import UnknownOrganization
from shared.access import Reach
from shared.contracts import Envelope
from shared.errors import Conflict
from shared.identity import Identity


class ConcurrentChange(Conflict):
    code, title = "concurrent-change", MESSAGES("membership.concurrent_change")


class Changes:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def check_organizations(self, ids: Iterable[str], reach: Reach) -> None:
        """Every organisation exists (422) and is within reach (403: the tree is public)."""
        ids = list(ids)
        if not ids:
            return
        known = await self.deps.tree.parents()
        if any(i not in known for i in ids):  # perhaps added by another replica a moment ago
            self.deps.changed()
            known = await self.deps.tree.parents()
        missing = [i for i in ids if i not in known]
        if missing:
            detail = MESSAGES("membership.no_organization", id=missing[0])
            raise UnknownOrganization(detail, field="organization_ids")
        if not reach.covers_all(ids):
            raise NotYours(MESSAGES("membership.place_inside_yours"), field="organization_ids")

    async def add(self, doc: MemberDoc, envelope: Envelope, reach: Reach) -> None:
        try:
            await self.deps.members.add(doc, envelope)
        except Taken as taken:
            raise await self.duplicate(taken.field, doc, reach) from None

    async def apply(
        self,
        doc: MemberDoc,
        update: dict[str, Any],
        events: Sequence[Envelope],
        reach: Reach,
        expect: dict[str, Any] | None = None,
    ) -> MemberDoc:
        """Write `update` with its events if the member is still as read; the new state."""
        try:
            after = await self.deps.members.apply(doc, update, events, expect or {})
        except Taken as taken:
            raise await self.duplicate(taken.field, {**doc, **update.get("$set", {})}, reach) from None
        if after is None:
            raise ConcurrentChange(MESSAGES("membership.changed_meanwhile"))
        return after

    async def duplicate(self, field: str, doc: Any, reach: Reach) -> DuplicateMember:
        """The refusal of a clash on `field`, naming the holder only within the caller's reach."""
        holder = await self.deps.members.holder(field, doc.get(field)) if doc.get(field) else None
        seen: Any = holder if holder and reach.covers_any(holder.get("organization_ids") or []) else {}
        named = MESSAGES(f"membership.field.{field}") if field in ("email", "phone") else field
        return DuplicateMember(
            MESSAGES("membership.taken", field=named),
            field=field,
            existing_member_id=seen.get("_id"),
            existing_member_name=seen.get("full_name"),
        )


def shown(doc: MemberDoc, who: Identity) -> dict[str, Any]:
    return public_member(doc, who)


__all__ = ["Changes", "ConcurrentChange", "event", "shown"]
