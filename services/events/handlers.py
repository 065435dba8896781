"""Events consumers: the local projections of members and organisations, and the
registrant data that follows a member's changes (or their erasure)."""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from services.events.catalogue import text
from services.events.store import REGISTRATIONS, MemberProjection, OrganizationProjection
from shared.contracts import Envelope, EventData, MemberContact, MemberErased, OrganizationChanged


@dataclass
class EventHandlers:
    db: AsyncDatabase
    members: MemberProjection
    orgs: OrganizationProjection

    async def on_member_changed(self, envelope: Envelope, data: EventData) -> None:
        regs = self.db[REGISTRATIONS]
        if isinstance(data, MemberErased):
            await self.members.erase(data.member_id)
            # Anonymise every registration of theirs; attendance counts and certificates' codes stay.
            await regs.update_many(
                {"member_id": data.member_id},
                {
                    "$set": {
                        "full_name": text("erased_name"),
                        "erased": 1,
                        "first_answer.full_name": text("erased_name"),
                    },
                    "$unset": {"email": "", "phone": "", "first_answer.email": "", "first_answer.phone": ""},
                },
            )
            return
        assert isinstance(data, MemberContact)
        if await self.members.apply(data, envelope.occurred_at):
            # Keep registrant contact current, so reminders and tickets reach them.
            contact = {"full_name": data.full_name, "language": data.language}
            unset = {}
            for field in ("email", "phone"):
                value = getattr(data, field)
                if value:
                    contact[field] = value
                else:
                    unset[field] = ""
            update: dict = {"$set": contact}
            if unset:
                update["$unset"] = unset
            await regs.update_many({"member_id": data.member_id, "erased": {"$exists": False}}, update)

    async def on_organization_changed(self, envelope: Envelope, data: EventData) -> None:
        assert isinstance(data, OrganizationChanged)
        await self.orgs.apply(data, envelope.occurred_at)
