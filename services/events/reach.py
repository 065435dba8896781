"""What every events use case works with, and who reaches which event.

The reach rule is the platform's (shared/access.py): an admin reaches every event; a
manager, or a partner key bound to an organisation, reaches events organised within
that organisation's subtree; an unbound partner key reaches every published event.
Drafts are staff's only. A partner sees the registrations it made, staff every
registration of the events they reach. Anything outside reach is not found (404).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from services.events.announcements import Links
from services.events.catalogue import MESSAGES
from services.events.projections import MemberProjection, OrganizationProjection
from services.events.records import EventDoc, OrganizationDoc, RegistrationDoc
from services.events.store import Events, Registrations, SeatLedger
from shared.access import OrganizationTree, Reach
from shared.errors import DomainError, NotFound
from shared.identity import Identity

PRODUCER = "events"
CACHE_SECONDS = 1.0  # how stale an event's window and audience may be when a registration is checked


class OutsideYourOrganization(DomainError):
    status, code, title = 403, "outside-your-organization", MESSAGES("events.outside_your_organization")


class EventCache:
    """Events as read at most CACHE_SECONDS ago, for registering. Seats never depend on it
    (the ledger's conditions do); it decides the registration window and audience, and
    which ledger update to try first. One read however many requests arrive at once."""

    def __init__(self, read: Any) -> None:
        self._read = read
        self._cache: dict[str, tuple[float, EventDoc]] = {}
        self._reading: dict[str, asyncio.Future[EventDoc]] = {}

    async def get(self, event_id: str) -> EventDoc:
        now = time.monotonic()
        hit = self._cache.get(event_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        reading = self._reading.get(event_id)
        if reading is None:
            reading = self._reading[event_id] = asyncio.ensure_future(self._read(event_id))
            reading.add_done_callback(lambda _: self._reading.pop(event_id, None))
        doc = await asyncio.shield(reading)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[event_id] = (now + CACHE_SECONDS, doc)
        return doc

    def latest(self, event: EventDoc) -> EventDoc:
        """The freshest copy this process holds."""
        hit = self._cache.get(event["_id"])
        return hit[1] if hit is not None else event

    def forget(self, event_id: str) -> None:
        self._cache.pop(event_id, None)

    def hint(self, event_id: str, counters: dict[str, Any]) -> None:
        hit = self._cache.get(event_id)
        if hit is not None:
            fresh = {k: counters[k] for k in ("seats_free", "waiting") if k in counters}
            self._cache[event_id] = (hit[0], {**hit[1], **fresh})  # type: ignore[typeddict-item]


@dataclass
class Deps:
    events: Events
    regs: Registrations
    ledger: SeatLedger
    members: MemberProjection
    orgs: OrganizationProjection
    tree: OrganizationTree
    links: Links
    cache: EventCache = field(init=False)

    def __post_init__(self) -> None:
        self.cache = EventCache(self.event)

    async def reach(self, who: Identity) -> Reach:
        return await self.tree.reach(who)

    async def event(self, event_id: str) -> EventDoc:
        found = await self.events.get(event_id)
        if found is None:
            raise no_event(event_id)
        return found

    async def event_for(self, who: Identity, event_id: str) -> EventDoc:
        """The event if `who` reaches it (drafts: staff only); 404 otherwise."""
        found = await self.events.get(event_id)
        if found is None or not await self.reaches(who, found):
            raise no_event(event_id)
        return found

    async def reaches(self, who: Identity, event: EventDoc) -> bool:
        if event["status"] == "draft" and not is_staff(who):
            return False
        return (await self.reach(who)).covers(event["organizer_id"])

    async def registration_for(self, who: Identity, registration_id: str) -> tuple[RegistrationDoc, EventDoc]:
        """The registration if `who` reaches its event and may see it; 404 otherwise."""
        reg = await self.regs.get(registration_id)
        event = await self.events.get(reg["event_id"]) if reg is not None else None
        if reg is None or event is None or not await self.reaches(who, event) or not mine(who, reg):
            raise NotFound(MESSAGES("events.no_registration"), registration_id=registration_id)
        return reg, event

    async def ensure_organizer(self, who: Identity, organizer_id: str) -> None:
        """An event is organised only by an organisation the caller reaches."""
        if not (await self.reach(who)).covers(organizer_id):
            raise OutsideYourOrganization(
                MESSAGES("events.outside_your_organization.detail"),
                organizer_id=organizer_id,
                your_organization_id=who.organization_id,
            )

    async def names(self, ids: list[str]) -> dict[str, OrganizationDoc]:
        return await self.orgs.names(ids)


def is_staff(who: Identity) -> bool:
    return who.is_admin or who.is_manager


def own(who: Identity) -> dict[str, Any]:
    """Partner systems see the registrations they made; staff see all of the events they reach."""
    return {} if is_staff(who) else {"registered_by": who.sub}


def mine(who: Identity, reg: RegistrationDoc) -> bool:
    return all(reg.get(k) == v for k, v in own(who).items())


def sees_contact(who: Identity, reg: RegistrationDoc) -> bool:
    """May `who` read this registrant's email and phone? Staff who reach the event may; a
    partner may for guests it registered (it sent their contact) and for members only
    with `members:read` (what it could read through membership anyway)."""
    return is_staff(who) or reg.get("kind") != "member" or who.has_scope("members:read")


def no_event(event_id: str) -> NotFound:
    return NotFound(MESSAGES("events.no_event"), event_id=event_id)
