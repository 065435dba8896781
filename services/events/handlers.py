"""Events consumers: the local projections of members and organisations, and the
registrant data that follows a member's changes — or their erasure, which reaches
every copy events holds (the registration, its first answer, its holder keys, and
guest registrations made with the same email or phone).

Both subscriptions are `idempotent` (no inbox claim, shared/bus.py): each projection
write is newest-wins (shared/projection.py), so a copy handled twice writes the same
values, and what follows it sets values (never moves a counter or announces anything),
so running it again changes nothing more."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.events.catalogue import text
from services.events.reach import Deps
from shared.bus import EventBus
from shared.clock import epoch
from shared.contracts import Envelope, EventData, MemberContact, MemberErased, OrganizationChanged

MEMBER_EVENTS = ["member.approved", "member.updated", "member.erased"]
REGISTRATION_EVENTS = ["registration.confirmed", "registration.waitlisted"]
ORGANIZATION_EVENTS = ["organization.created", "organization.updated"]
CONTACT = ("email", "phone", "holder_email", "holder_phone", "first_answer.email", "first_answer.phone")


@dataclass
class EventHandlers:
    deps: Deps

    def subscribe(self, bus: EventBus) -> None:
        """Each consumer, its durable queue and the events it takes."""
        bus.subscribe("member_projection", MEMBER_EVENTS, self.on_member_changed, idempotent=True)
        bus.subscribe("organization_projection", ORGANIZATION_EVENTS, self.on_organization_changed, idempotent=True)

    async def on_member_changed(self, envelope: Envelope, data: EventData) -> None:
        """Idempotent: the projection is newest-wins, and registrants' contact is set (not
        added to) from the event, newest wins too, so a second run writes what the first did
        and an older change handled beside a newer one changes nothing."""
        if isinstance(data, MemberErased):
            await self.erase(data.member_id, envelope.occurred_at)
            return
        assert isinstance(data, MemberContact)
        applied = await self.deps.members.apply(data, envelope.occurred_at)
        # `new`: events never knew this member, and a registration by member id needs the
        # member known first (registering.py), so none can name them: nothing to follow.
        if applied == "updated":
            await self.deps.regs.follow_member(data.member_id, _contact(data), epoch(envelope.occurred_at))

    async def erase(self, member_id: str, at: datetime) -> None:
        """Anonymise every registration of theirs; attendance counts and certificates' codes stay.

        Safe to run twice: the registrations are found by the projection's email and phone,
        which are forgotten last, so a run cut short finds them again; a finished run left
        nothing to find."""
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
        await self.deps.members.erase(member_id, at)

    async def on_organization_changed(self, envelope: Envelope, data: EventData) -> None:
        """Idempotent: a newest-wins projection, and forgetting the cached tree twice is harmless."""
        assert isinstance(data, OrganizationChanged)
        if await self.deps.orgs.apply(data, envelope.occurred_at) != "stale":
            self.deps.tree.invalidate()


def subscribe_registration_news(bus: EventBus, heard: Callable[[], None]) -> None:
    """The replicas hear of registrations (their share of them: one durable queue the
    replicas share, like every consumer's, so one message per registration, not one per
    replica): the replica that wrote one may have batches in hand, and the healer looks a
    lease later for any it left when it died (seating.py). Idempotent: it only sets a
    timer, no store command, no inbox claim. A message missed is harmless: the healer's
    safety net looks anyway."""

    async def on_registration(envelope: Envelope, data: EventData) -> None:
        heard()

    bus.subscribe("registration_news", REGISTRATION_EVENTS, on_registration, idempotent=True)


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
