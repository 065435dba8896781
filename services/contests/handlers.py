"""Contests consumers: the projections of members and organisations (for reach,
conflicts of interest and names), the authors' contact data that follows a
member's changes, and erasure of a member's personal data wherever it is kept
(entries and published results; scores and prizes stay, with no name).

Both subscriptions are `idempotent` (no inbox claim, shared/bus.py): the projections
are newest-wins (shared/projection.py) and everything that follows sets values from
the event (authors' contact, an erased name), so a second run changes nothing more."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.contests import entrants
from services.contests.reach import Deps
from shared.bus import EventBus
from shared.contracts import Envelope, EventData, MemberContact, MemberErased, OrganizationChanged
from shared.logging import get_logger

log = get_logger(__name__)
MEMBER_EVENTS = ["member.approved", "member.updated", "member.erased"]
ORGANIZATION_EVENTS = ["organization.created", "organization.updated"]


@dataclass
class ContestHandlers:
    deps: Deps

    def subscribe(self, bus: EventBus) -> None:
        """Each consumer, its durable queue and the events it takes."""
        bus.subscribe("member_projection", MEMBER_EVENTS, self.on_member, idempotent=True)
        bus.subscribe("organization_projection", ORGANIZATION_EVENTS, self.on_organization, idempotent=True)

    async def on_member(self, envelope: Envelope, data: EventData) -> None:
        """Idempotent: a newest-wins projection, then the authors' contact and the entries'
        organisations set (not added to) from what is now known."""
        if isinstance(data, MemberErased):
            await self._erase(data.member_id, envelope)
            return
        assert isinstance(data, MemberContact)
        if await self.deps.projections.apply_member(data, envelope.occurred_at) != "updated":
            # `stale`: an older copy of what we know. `new`: contests never knew this member,
            # and an entry names a member author only once known (entrants.authors), so none does.
            return
        for entry in await self.deps.entries.with_member(data.member_id):
            members = await self.deps.projections.members_by_id(entry["member_ids"])
            # The author's contact as the projection holds it now, not as this event says:
            # two changes of one member handled at once both pass the newest-wins write,
            # and the older one must not be the last copied into the entry.
            held = members.get(data.member_id) or {}
            authors, changed = entrants.refresh(list(entry["entrant"]["authors"]), data.member_id, held)
            organizations = sorted(
                {
                    *([entry["entrant"]["organization_id"]] if entry["entrant"].get("organization_id") else []),
                    *(o for m in members.values() for o in m.get("organization_ids") or []),
                }
            )
            if changed or organizations != entry["organization_ids"]:
                await self.deps.entries.update(
                    entry["_id"], {"entrant.authors": authors, "organization_ids": organizations}
                )

    async def on_organization(self, envelope: Envelope, data: EventData) -> None:
        """Idempotent: a newest-wins projection, and forgetting the cached tree twice is harmless."""
        assert isinstance(data, OrganizationChanged)
        if await self.deps.projections.apply_organization(data, envelope.occurred_at) != "stale":
            self.deps.tree.invalidate()

    async def _erase(self, member_id: str, envelope: Envelope) -> None:
        """Safe to run twice: entries and results are found by member id and their names
        replaced by the erased name, which a second run finds already done."""
        await self.deps.projections.erase_member(member_id, envelope.occurred_at)
        for entry in await self.deps.entries.with_member(member_id):
            authors, changed = entrants.erase(list(entry["entrant"]["authors"]), member_id)
            if changed:
                await self.deps.entries.update(entry["_id"], {"entrant.authors": authors})
        for frozen in await self.deps.archive.results_with_member(member_id):
            items = [
                {**i, "authors": _names_without(i, member_id)} if member_id in (i.get("member_ids") or []) else i
                for i in frozen["items"]
            ]
            await self.deps.archive.rewrite_results(frozen["_id"], items)
        log.info("contests.member_erased", member_id=member_id)


def _names_without(item: Mapping[str, Any], member_id: str) -> list[str]:
    """A published item's author names once a member asked to be forgotten: theirs is replaced."""
    members = list(item.get("author_members") or [])
    return [
        entrants.ERASED_NAME if i < len(members) and members[i] == member_id else str(name)
        for i, name in enumerate(item.get("authors") or [])
    ]
