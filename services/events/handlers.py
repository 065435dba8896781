"""Events consumers: keep the local member projection current."""

from __future__ import annotations

from dataclasses import dataclass

from services.events.store import MemberProjection
from shared.contracts import Envelope, EventData, MemberContact, MemberErased


@dataclass
class EventHandlers:
    members: MemberProjection

    async def on_member_changed(self, envelope: Envelope, data: EventData) -> None:
        if isinstance(data, MemberErased):
            await self.members.erase(data.member_id)
        else:
            assert isinstance(data, MemberContact)
            await self.members.apply(data, envelope.occurred_at)
