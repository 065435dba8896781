"""Keeping what notifications knows of other services current, from their events:
contacts (so sending never asks membership), the organisation tree and event
registrations (campaign segments), and erasure (a member's personal data leaves
every notifications collection).

Each of these is idempotent on its own: the projections are newest-wins writes
filtered on the event's time (projections.py, shared/projection.py), and erasure
only removes (running it again removes nothing more). So their subscriptions take
no inbox claim (handlers.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.notifications.catalogue import expertise_key
from services.notifications.projections import ContactStore, DirectoryStore
from services.notifications.store import DeliveryStore, SuppressionStore
from shared.contracts import (
    MemberContact,
    OrganizationChanged,
    Registrant,
    RegistrationCancelled,
    RegistrationEvent,
)
from shared.logging import get_logger
from shared.projection import Applied

log = get_logger(__name__)
ACTIVE_REGISTRATION = ("registration.confirmed", "registration.promoted")


def registration_status(event_type: str, data: RegistrationEvent) -> str:
    if event_type in ACTIVE_REGISTRATION:
        return "active"
    return "cancelled" if isinstance(data, RegistrationCancelled) else "waitlisted"


@dataclass
class Projecting:
    contacts: ContactStore
    directory: DirectoryStore
    deliveries: DeliveryStore
    suppressions: SuppressionStore
    on_federation: Callable[[str], None] = lambda name: None

    async def contact(self, data: MemberContact, occurred_at: datetime, expertise: object) -> Applied:
        values = expertise if isinstance(expertise, list) else [expertise] if expertise else []
        return await self.contacts.upsert(data, occurred_at, {"expertise": [expertise_key(v) for v in values]})

    async def erase(self, member_id: str) -> None:
        """The member's contact data, preferences, registrations' copies, message bodies
        and addresses go, and with them every record keyed by their addresses (SMS
        quota counts, suppressions). The contact is marked first, so a planner racing
        with the erasure scrubs what it planned (planner._scrub_erased_meanwhile), and
        keeps the addresses found until the end: a run that fails part-way is retried
        by the bus, and the retry must still know them once the copies are gone."""
        addresses = await self._addresses_of(member_id)
        await self.contacts.mark_erased(member_id, addresses)
        await self.directory.erase_member(member_id)
        await self.deliveries.erase_member(member_id)
        await self.deliveries.quotas.forget(sorted(addresses))
        await self.suppressions.forget(sorted(addresses))
        await self.contacts.erase(member_id)
        log.info("notify.member_erased", member_id=member_id)

    async def _addresses_of(self, member_id: str) -> set[str]:
        """Every email address and phone number notifications holds for the member
        (with those an erasure under way kept on the contact)."""
        contact = await self.contacts.get(member_id)
        found = (
            {contact.get("email"), contact.get("phone"), *contact.get("erasing_addresses", [])} if contact else set()
        )
        found |= set(await self.directory.addresses_of(member_id))
        found |= set(await self.deliveries.addresses_of(member_id))
        return {a for a in found if a}

    async def organization(self, data: OrganizationChanged, occurred_at: datetime) -> None:
        newest = await self.directory.upsert_organization(
            data.organization_id,
            {"parent_id": data.parent_id, "name": data.name, "kind": data.kind, "status": data.status},
            occurred_at,
        )
        if newest and data.parent_id is None and data.kind == "federation":
            self.on_federation(data.name)  # messages sign with the tree's root from now on

    async def registrants(self, event_id: str) -> list[Registrant]:
        """Who holds a place at an event, as far as the registration events told us
        (erased people, whose names are gone, are left out)."""
        return [
            Registrant(
                registration_id=d["_id"],
                member_id=d.get("member_id"),
                full_name=d["full_name"],
                email=d.get("email"),
                phone=d.get("phone"),
                language="en" if d.get("language") == "en" else "vi",
            )
            for d in await self.directory.active_registrations(event_id)
            if d.get("full_name")
        ]

    async def registration(self, event_type: str, data: RegistrationEvent, occurred_at: datetime) -> None:
        r = data.registrant
        await self.directory.upsert_registration(
            r.registration_id,
            {
                "event_id": data.event.event_id,
                "member_id": r.member_id,
                "full_name": r.full_name,
                "email": r.email,
                "phone": r.phone,
                "language": r.language,
                "status": registration_status(event_type, data),  # type: ignore[typeddict-item]
            },
            occurred_at,
        )
