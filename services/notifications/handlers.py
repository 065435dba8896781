"""The notifications service's bus subscriptions, each next to its handler.

- `contacts`: member.* and membership.* → the contact projection (and erasure), then
  the deliveries these events route (notices.py).
- `directory`: organization.* and registration.* → the projections campaign
  segments are chosen from.
- `deliveries`: every other routed event (catalogue.ROUTES) → the deliveries its
  routing table entry asks for (notices.py).

All three are idempotent on the bus (no inbox claim, shared/bus.py): their own
writes decide duplicates, as each handler's docstring says.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.notifications.catalogue import PROJECTION_EVENTS, ROUTES
from services.notifications.notices import CannotRender, EventNotices
from services.notifications.projecting import Projecting
from services.notifications.records import ContactDoc
from shared.bus import EventBus, PermanentError
from shared.contracts import Envelope, EventData, MemberContact, MemberErased, OrganizationChanged, RegistrationEvent

DIRECTORY_EVENTS = (
    "organization.created",
    "organization.updated",
    "registration.confirmed",
    "registration.waitlisted",
    "registration.promoted",
    "registration.cancelled",
)


@dataclass
class NotificationHandlers:
    projecting: Projecting
    notices: EventNotices

    async def on_member_contact(self, envelope: Envelope, data: EventData) -> None:
        """member.* and membership.* → keep the contact projection current, so sending never
        asks membership, then plan the messages these events route (welcome, membership
        terms, reviewers of an application). Planned here, after the projection write: a
        member that write just made (nothing was kept of them: no preferences, no
        erasure) is planned without reading their contact again.

        Idempotent: the contact write is newest-wins on the event's time (a second run
        writes the same values, an older event changes nothing), erasure only removes
        data, and planning inserts deliveries under deterministic keys (on_notify)."""
        if isinstance(data, MemberErased):
            await self.projecting.erase(data.member_id)
            return
        assert isinstance(data, MemberContact)
        known: dict[str, ContactDoc] | None = None
        if envelope.type != "member.applied":  # an applicant is not a member yet: nothing to keep
            applied = await self.projecting.contact(data, envelope.occurred_at, envelope.data.get("expertise"))
            if applied == "new":
                known = {data.member_id: {"_id": data.member_id}}
        await self._plan(envelope, data, known)

    async def on_directory(self, envelope: Envelope, data: EventData) -> None:
        """organization.* and registration.* → the projections campaign segments are chosen from.

        Idempotent: both writes are newest-wins on the event's time; the federation's
        name kept in memory is set again to the same value."""
        if isinstance(data, OrganizationChanged):
            await self.projecting.organization(data, envelope.occurred_at)
            return
        assert isinstance(data, RegistrationEvent)
        await self.projecting.registration(envelope.type, data, envelope.occurred_at)

    async def on_notify(self, envelope: Envelope, data: EventData) -> None:
        """Any other routed event → the deliveries its routing table entry asks for.

        Idempotent: the only write is inserting deliveries under deterministic keys
        (event id, recipient, channel, template; planner.delivery_key), skipped ones
        included, so a second run inserts nothing and sends nothing; reading the
        registrants and waking the dispatcher (the planner does) change nothing. Nothing
        is sent here: the dispatcher claims each delivery once."""
        # A member event here is a replay of one an earlier version parked: planned
        # again, it inserts nothing twice and loses nothing.
        await self._plan(envelope, data)

    async def _plan(self, envelope: Envelope, data: EventData, known: dict[str, ContactDoc] | None = None) -> None:
        try:
            await self.notices.plan(envelope.id, envelope.type, data, envelope.data, known)
        except CannotRender as exc:
            # Staff fix the template and replay the parked event.
            raise PermanentError(str(exc)) from None


def subscribe(bus: EventBus, handlers: NotificationHandlers) -> None:
    bus.subscribe("contacts", list(PROJECTION_EVENTS), handlers.on_member_contact, idempotent=True)
    bus.subscribe("directory", DIRECTORY_EVENTS, handlers.on_directory, idempotent=True)
    # Member events used to reach `deliveries` too (they are planned by `contacts` now). From a
    # version before that move, stop the old replicas before these start: an old `contacts`
    # consumer does not plan them, and `deliveries` no longer receives them.
    retired = sorted(set(ROUTES) & set(PROJECTION_EVENTS))
    deliveries = sorted(set(ROUTES) - set(PROJECTION_EVENTS))
    bus.subscribe("deliveries", deliveries, handlers.on_notify, idempotent=True, retired=retired)
