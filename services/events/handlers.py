"""Events consumers: the local projections of members and organisations, and the
registrant data that follows a member's changes — or their erasure, which reaches
every copy events holds (the registration, its first answer, its holder keys, and
guest registrations made with the same email or phone)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.events.catalogue import text
from services.events.reach import Deps
from shared.bus import EventBus
from shared.contracts import Envelope, EventData, MemberContact, MemberErased, OrganizationChanged

MEMBER_EVENTS = ["member.approved", "member.updated", "member.erased"]
ORGANIZATION_EVENTS = ["organization.created", "organization.updated"]
CONTACT = ("email", "phone", "holder_email", "holder_phone", "first_answer.email", "first_answer.phone")


@dataclass
class EventHandlers:
    deps: Deps

    def subscribe(self, bus: EventBus) -> None:
        """Each consumer, its durable queue and the events it takes."""
        bus.subscribe("member_projection", MEMBER_EVENTS, self.on_member_changed)
        bus.subscribe("organization_projection", ORGANIZATION_EVENTS, self.on_organization_changed)

    async def on_member_changed(self, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, MemberErased):
            await self.erase(data.member_id)
            return
        assert isinstance(data, MemberContact)
        if await self.deps.members.apply(data, envelope.occurred_at):
            await self.deps.regs.change_all({"member_id": data.member_id, "erased": {"$exists": False}}, _contact(data))

    async def erase(self, member_id: str) -> None:
        """Anonymise every registration of theirs; attendance counts and certificates' codes stay."""
        known: dict[str, Any] = dict(await self.deps.members.get(member_id) or {})
        same_person: list[dict[str, Any]] = [{"member_id": member_id}]
        same_person += [{field: known[field]} for field in ("email", "phone") if known.get(field)]
        erased = text("erased_name")
        await self.deps.regs.change_all(
            {"$or": same_person},
            {
                "$set": {"full_name": erased, "erased": 1, "first_answer.full_name": erased},
                "$unset": {field: "" for field in CONTACT},
            },
        )
        await self.deps.members.erase(member_id)

    async def on_organization_changed(self, envelope: Envelope, data: EventData) -> None:
        assert isinstance(data, OrganizationChanged)
        if await self.deps.orgs.apply(data, envelope.occurred_at):
            self.deps.tree.invalidate()


def _contact(data: MemberContact) -> dict[str, Any]:
    """Registrant contact kept current, so reminders and tickets reach them."""
    update: dict[str, Any] = {"$set": {"full_name": data.full_name, "language": data.language}}
    for field in ("email", "phone"):
        value = getattr(data, field)
        if value:
            update["$set"][field] = value
        else:
            update.setdefault("$unset", {})[field] = ""
    return update
