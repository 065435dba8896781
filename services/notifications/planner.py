"""From "these people should hear about this" to stored deliveries.

The planner decides channels (consents, addresses, preferences, the route's
category), renders each message with the active template, and inserts one delivery
per person and channel under its deterministic key: planning the same event or the
same campaign page twice inserts nothing new. Skipped channels are recorded too,
with the reason, so the log answers "why did she get no SMS?".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.notifications import links
from services.notifications.catalogue import Recipient, Route
from services.notifications.rendering import Renderer
from services.notifications.rules import choose_channels, merged_preferences
from services.notifications.store import ContactStore, DeliveryStore
from services.notifications.templates import TemplateStore
from shared.settings import Settings


class TemplateMissing(LookupError):
    pass


def delivery_key(source_id: str, recipient: str, channel: str, template: str) -> str:
    return f"{source_id}:{recipient}:{channel}:{template}"


@dataclass
class Planner:
    settings: Settings
    contacts: ContactStore
    deliveries: DeliveryStore
    templates: TemplateStore
    renderer: Renderer

    def base_context(self) -> dict[str, Any]:
        s = self.settings
        return {
            "federation": s.federation_name,
            "federation_en": s.federation_name_en,
            "public_base_url": s.public_base_url,
        }

    async def plan(
        self,
        route: Route,
        people: list[Recipient],
        *,
        source_id: str,
        source_type: str,
        campaign_id: str | None = None,
        channels: tuple[str, ...] | None = None,
        extra_context: dict[str, Any] | None = None,
        from_contacts: bool = False,
        claim: dict[str, Any] | None = None,
    ) -> list[str]:
        """Store the deliveries of `route` to `people`; return the keys that were new.
        `from_contacts`: the people were just read from the contact projection (a
        campaign page), so it is not read again. `claim`: fields that store the
        deliveries to send as already claimed by the caller, who sends them at once."""
        member_ids = [p.member_id for p in people if p.member_id]
        known = {}
        if member_ids and not from_contacts:
            known = {d["_id"]: d async for d in self.contacts.contacts.find({"_id": {"$in": member_ids}})}
        stored_prefs = await self.contacts.get_many_preferences([p.recipient_id for p in people])
        route_channels = tuple(c for c in route.channels if channels is None or c in channels)
        docs: list[dict[str, Any]] = []
        for person in people:
            contact = known.get(person.member_id or "")
            base = {
                "notification": route.notification,
                "category": route.category,
                "language": person.language,
                "recipient_id": person.recipient_id,
                "member_id": person.member_id,
                "source_event_id": source_id,
                "source_event_type": source_type,
                "campaign_id": campaign_id,
            }
            if contact is not None and contact.get("erased"):
                docs.extend(
                    {
                        "_id": delivery_key(source_id, person.recipient_id, c, route.notification),
                        **base,
                        "channel": c,
                        "status": "skipped",
                        "reason": "erased",
                    }
                    for c in route_channels
                )
                continue
            email, phone, consents = person.email, person.phone, person.consents
            if contact is not None:
                email, phone = email or contact.get("email"), phone or contact.get("phone")
                if consents is None and isinstance(contact.get("consents"), dict):
                    consents = {k: v == "yes" for k, v in contact["consents"].items()}
            unusable: dict[str, str] = {}
            for channel, address in (("email", email), ("sms", phone)):
                if not address:
                    unusable[channel] = "no-address"
                elif route.category != "staff" and consents is not None and not consents.get(channel, False):
                    unusable[channel] = "no-consent"
            prefs = merged_preferences(stored_prefs.get(person.recipient_id))
            chosen, skipped = choose_channels(route_channels, route.category, prefs, unusable)
            for channel, reason in skipped.items():
                docs.append(
                    {
                        "_id": delivery_key(source_id, person.recipient_id, channel, route.notification),
                        **base,
                        "channel": channel,
                        "status": "skipped",
                        "reason": reason,
                    }
                )
            context = {
                **self.base_context(),
                "full_name": person.full_name,
                "language": person.language,
                **(extra_context or {}),
                **person.context,
                "has_qr": "qr" in person.attachments,
            }
            for channel in chosen:
                doc = {
                    "_id": delivery_key(source_id, person.recipient_id, channel, route.notification),
                    **base,
                    "channel": channel,
                    "to": email if channel == "email" else phone,
                    "to_name": person.full_name,
                }
                doc.update(await self._render(route, channel, person, context))
                if person.attachments and channel == "email":
                    doc["attachments"] = dict(person.attachments)
                if claim:
                    doc.update(claim)
                docs.append(doc)
        added = await self.deliveries.plan(docs)
        if member_ids:
            # Someone erased while we planned: the erasure may have scrubbed the log before
            # our insert, so scrub again. (Erasure marks the contact first, then the log.)
            erased = [
                d["_id"]
                async for d in self.contacts.contacts.find(
                    {"_id": {"$in": member_ids}, "erased": {"$exists": True}}, {"_id": 1}
                )
            ]
            for member_id in erased:
                await self.deliveries.erase_member(member_id)
        return added

    async def _render(self, route: Route, channel: str, person: Recipient, context: dict[str, Any]) -> dict[str, Any]:
        source = await self.templates.active(route.notification, channel, person.language)
        if source is None:
            raise TemplateMissing(f"no {channel} template for {route.notification}")
        s = self.settings
        fields: dict[str, Any] = {"template_version": source.version, "language": source.language}
        if channel == "email":
            if route.category == "announcement":
                url = links.unsubscribe_url(
                    s.public_base_url, person.recipient_id, "email", s.derived_secret("unsubscribe")
                )
                context = {**context, "unsubscribe_url": url}
                fields["headers"] = {
                    "List-Unsubscribe": f"<{url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                }
            rendered = self.renderer.email(source, source.language, context)
            fields["content"] = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
            return fields
        announcement = (s.sms_announcement_tag, s.sms_opt_out_text) if route.category == "announcement" else None
        sms = self.renderer.sms(source, source.language, context, unicode=s.sms_unicode, announcement=announcement)
        fields.update(
            content={"text": sms.text}, segments=sms.size.segments, encoding=sms.size.encoding, unicode=s.sms_unicode
        )
        return fields
