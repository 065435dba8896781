"""Notifications event consumers. Each is idempotent: the bus's inbox skips an
event a handler already processed, and every send is keyed by its delivery key."""

from __future__ import annotations

from dataclasses import dataclass

from services.notifications.email import EmailDeferred, EmailRejected, SmtpSender
from services.notifications.rendering import Renderer
from services.notifications.store import ContactStore, DeliveryStore
from shared.contracts import Envelope, EventData, MemberContact, MemberErased
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)


def delivery_key(event_id: str, recipient: str, channel: str, template: str) -> str:
    return f"{event_id}:{recipient}:{channel}:{template}"


@dataclass
class NotificationHandlers:
    settings: Settings
    contacts: ContactStore
    deliveries: DeliveryStore
    renderer: Renderer
    smtp: SmtpSender

    async def on_member_contact(self, envelope: Envelope, data: EventData) -> None:
        """member.* → keep the contact projection current, so sending never asks membership."""
        if isinstance(data, MemberErased):
            await self.contacts.erase(data.member_id)
        else:
            assert isinstance(data, MemberContact)
            await self.contacts.upsert(data, envelope.occurred_at)

    async def on_member_approved(self, envelope: Envelope, data: EventData) -> None:
        """member.approved → a welcome email in the member's language."""
        assert isinstance(data, MemberContact)
        if not data.email or not data.consents.email:
            log.info("notify.welcome_skipped", member_id=data.member_id, reason="no email or no consent")
            return
        await self.send_email(envelope, data, "welcome")

    async def send_email(self, envelope: Envelope, member: MemberContact, template: str) -> None:
        assert member.email is not None
        key = delivery_key(envelope.id, member.member_id, "email", template)
        claimed = await self.deliveries.claim(key, {
            "channel": "email", "template": template, "member_id": member.member_id,
            "source_event_id": envelope.id, "source_event_type": envelope.type,
            "language": member.language,
        })
        if not claimed:
            log.info("notify.already_delivered", delivery_key=key)
            return
        context = {
            "full_name": member.full_name,
            "federation": self.settings.federation_name,
            "federation_en": self.settings.federation_name_en,
        }
        rendered = self.renderer.email(template, member.language, context)
        message = self.smtp.build(to=member.email, to_name=member.full_name, rendered=rendered, delivery_key=key)
        try:
            await self.smtp.send(message)
        except EmailRejected as exc:
            await self.deliveries.mark_failed(key, str(exc))
            log.warning("notify.email_rejected", delivery_key=key, reason=str(exc))
            return
        except EmailDeferred as exc:
            await self.deliveries.mark_deferred(key, str(exc))
            raise
        await self.deliveries.mark_sent(key)
        log.info("notify.email_sent", delivery_key=key, template=template)
