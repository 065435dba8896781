"""Notifications event consumers. Thin: each keeps a projection or hands the event's
recipients to the planner. The bus's inbox gives one run per event id; the
delivery keys make even a second run (after a lease expired) plan nothing new."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import TemplateError

from services.notifications.catalogue import ROUTES, expertise_key, recipients
from services.notifications.dispatcher import Dispatcher
from services.notifications.planner import Planner, TemplateMissing
from services.notifications.store import ContactStore, DeliveryStore, DirectoryStore
from shared.bus import PermanentError
from shared.contracts import (
    Envelope,
    EventData,
    MemberContact,
    MemberErased,
    OrganizationChanged,
    RegistrationCancelled,
    RegistrationEvent,
)
from shared.logging import get_logger

log = get_logger(__name__)
ACTIVE_REGISTRATION = ("registration.confirmed", "registration.promoted")


@dataclass
class NotificationHandlers:
    contacts: ContactStore
    directory: DirectoryStore
    deliveries: DeliveryStore
    planner: Planner
    dispatcher: Dispatcher

    async def on_member_contact(self, envelope: Envelope, data: EventData) -> None:
        """member.* and membership.* → keep the contact projection current, so sending never asks membership."""
        if isinstance(data, MemberErased):
            await self.contacts.erase(data.member_id)
            await self.directory.erase_member(data.member_id)
            await self.deliveries.erase_member(data.member_id)
            log.info("notify.member_erased", member_id=data.member_id)
            return
        assert isinstance(data, MemberContact)
        if envelope.type == "member.applied":
            return  # an applicant is not a member yet: nothing to keep
        expertise = envelope.data.get("expertise")
        values = expertise if isinstance(expertise, list) else [expertise] if expertise else []
        await self.contacts.upsert(data, envelope.occurred_at, {"expertise": [expertise_key(v) for v in values]})

    async def on_directory(self, envelope: Envelope, data: EventData) -> None:
        """organization.* and registration.* → the projections campaign segments are chosen from."""
        if isinstance(data, OrganizationChanged):
            await self.directory.upsert_organization(
                data.organization_id,
                {"parent_id": data.parent_id, "name": data.name, "kind": data.kind, "status": data.status},
            )
            return
        assert isinstance(data, RegistrationEvent)
        r = data.registrant
        status = (
            "active"
            if envelope.type in ACTIVE_REGISTRATION
            else ("cancelled" if isinstance(data, RegistrationCancelled) else "waitlisted")
        )
        await self.directory.upsert_registration(
            r.registration_id,
            {
                "event_id": data.event.event_id,
                "member_id": r.member_id,
                "full_name": r.full_name,
                "email": r.email,
                "phone": r.phone,
                "language": r.language,
                "status": status,
            },
        )

    async def on_notify(self, envelope: Envelope, data: EventData) -> None:
        """Any routed event → the deliveries its routing table entry asks for."""
        planned = 0
        for route in ROUTES.get(envelope.type, []):
            people = recipients(route, data, envelope.data)
            try:
                planned += len(await self.planner.plan(route, people, source_id=envelope.id, source_type=envelope.type))
            except (TemplateError, TemplateMissing, TypeError, ValueError) as exc:
                # A template that cannot render this event will not render it on retry
                # either: park the event; staff fix the template and replay it.
                raise PermanentError(f"cannot render {route.notification}: {type(exc).__name__}: {exc}") from None
        if planned:
            self.dispatcher.wake()
        log.info("notify.planned", event_type=envelope.type, deliveries=planned)
