"""From "these people should hear about this" to stored deliveries.

The planner decides channels (consents, addresses, preferences, the route's
category), renders each message with the active template, and inserts one delivery
per person and channel under its deterministic key: planning the same event or the
same campaign page twice inserts nothing new. Skipped channels are recorded too,
with the reason, so the log answers "why did she get no SMS?".

What it knows of the people (contact, consents, erasure, preferences) comes from one
read of the contacts collection, where preferences live too (projections.py).

Erasure racing with planning: erasure marks the contact first, then scrubs the
log, so a delivery inserted after that scrub by a planner that read the contact
before the mark would keep the address. Every delivery with a member is checked
against erased contacts by the dispatcher before it is sent (one read per batch,
dispatcher.py), which scrubs it instead; a campaign page, which may be paused
before it is sent, is also checked right after its insert (one read per page).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from services.notifications.catalogue import Recipient, Route
from services.notifications.links import Links
from services.notifications.projections import ContactStore, preferences_of
from services.notifications.records import ContactDoc
from services.notifications.rendering import Renderer
from services.notifications.rules import choose_channels, merged_preferences
from services.notifications.store import DeliveryStore
from services.notifications.templates import TemplateStore
from services.notifications.zns import ZnsTemplates, template_data
from shared.settings import Settings


class TemplateMissing(LookupError):
    pass


def delivery_key(source_id: str, recipient: str, channel: str, template: str) -> str:
    return f"{source_id}:{recipient}:{channel}:{template}"


def _channels(route: Route, wanted: tuple[str, ...] | None) -> tuple[str, ...]:
    """The route's channels, narrowed to those a campaign chose."""
    return tuple(c for c in route.channels if wanted is None or c in wanted)


@dataclass(frozen=True)
class Plan:
    """What one planning call is about: the route, the source, and the campaign's choices."""

    route: Route
    source_id: str
    source_type: str
    channels: tuple[str, ...]
    campaign_id: str | None = None
    extra_context: dict[str, Any] | None = None
    claim: dict[str, Any] | None = None

    def key(self, person: Recipient, channel: str) -> str:
        return delivery_key(self.source_id, person.recipient_id, channel, self.route.notification)

    def base(self, person: Recipient) -> dict[str, Any]:
        return {
            "notification": self.route.notification,
            "category": self.route.category,
            "language": person.language,
            "recipient_id": person.recipient_id,
            "member_id": person.member_id,
            "source_event_id": self.source_id,
            "source_event_type": self.source_type,
            "campaign_id": self.campaign_id,
        }

    def skipped(self, person: Recipient, channel: str, reason: str) -> dict[str, Any]:
        return {
            "_id": self.key(person, channel),
            **self.base(person),
            "channel": channel,
            "status": "skipped",
            "reason": reason,
        }


@dataclass(frozen=True)
class Reachable:
    """A person's addresses and consents, from the event or the contact projection."""

    email: str | None
    phone: str | None
    consents: dict[str, bool] | None

    @classmethod
    def of(cls, person: Recipient, contact: ContactDoc | None) -> Reachable:
        email, phone, consents = person.email, person.phone, person.consents
        if contact is not None:
            email, phone = email or contact.get("email"), phone or contact.get("phone")
            stored = contact.get("consents")
            if consents is None and isinstance(stored, dict):
                consents = {k: v == "yes" for k, v in stored.items()}
        return cls(email, phone, consents)

    def unusable(self, category: str) -> dict[str, str]:
        """Why a channel cannot be used at all: no address, or no consent to it."""
        out: dict[str, str] = {}
        for channel, address in (("email", self.email), ("sms", self.phone)):
            if not address:
                out[channel] = "no-address"
            elif category != "staff" and self.consents is not None and not self.consents.get(channel, False):
                out[channel] = "no-consent"
        return out

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.phone


@dataclass
class Planner:
    settings: Settings
    contacts: ContactStore
    deliveries: DeliveryStore
    templates: TemplateStore
    renderer: Renderer
    links: Links | None = None
    zns: ZnsTemplates | None = None
    # The root of the organisation tree, as membership last announced it (the setting is
    # only the fallback before a tree exists).
    federation: str | None = None
    # Told the channels of new deliveries waiting to be sent (the dispatcher's wake).
    on_queued: Callable[[Collection[str]], None] | None = None

    def __post_init__(self) -> None:
        s = self.settings
        if self.links is None:
            self.links = Links(s)
        if self.zns is None:
            self.zns = ZnsTemplates.from_setting(s.zns_templates if s.zns_app_id and s.zns_app_secret else "")

    def base_context(self) -> dict[str, Any]:
        s = self.settings
        return {
            "federation": self.federation or s.federation_name,
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
        contacts: dict[str, ContactDoc] | None = None,
        claim: dict[str, Any] | None = None,
    ) -> list[str]:
        """Store the deliveries of `route` to `people`; return the keys that were new.
        `contacts`: contacts documents the caller already has (a campaign page just read,
        a contact just made), so they are not read again; the others are read. `claim`:
        fields that store the deliveries to send as already claimed by the caller, who
        sends them at once."""
        plan = Plan(route, source_id, source_type, _channels(route, channels), campaign_id, extra_context, claim)
        member_ids = [p.member_id for p in people if p.member_id]
        contacts = dict(contacts or {})
        missing = sorted(({p.recipient_id for p in people} | set(member_ids)) - set(contacts))
        if missing:
            contacts.update(await self.contacts.people(missing))
        docs: list[dict[str, Any]] = []
        for person in people:
            stored = dict(preferences_of(contacts.get(person.recipient_id)) or {})
            docs.extend(await self._plan_person(plan, person, contacts.get(person.member_id or ""), stored))
        added = await self.deliveries.plan(docs)
        new = set(added)
        queued = {d["channel"] for d in docs if d["_id"] in new and d["status"] == "queued"}
        if queued and self.on_queued is not None:
            self.on_queued(queued)
        if campaign_id is not None:
            await self._scrub_erased_meanwhile(member_ids)
        return added

    async def _plan_person(
        self,
        plan: Plan,
        person: Recipient,
        contact: ContactDoc | None,
        stored_prefs: dict[str, Any],
    ) -> list[dict[str, Any]]:
        if contact is not None and contact.get("erased"):
            return [plan.skipped(person, c, "erased") for c in plan.channels]
        prefs = merged_preferences(stored_prefs)
        zalo = bool(stored_prefs.get("zalo", True))  # read back as 1/0 from the embedded store
        reachable = Reachable.of(person, contact)
        chosen, skipped = choose_channels(
            plan.channels,  # type: ignore[arg-type]
            plan.route.category,
            prefs,
            reachable.unusable(plan.route.category),
        )
        docs = [plan.skipped(person, channel, reason) for channel, reason in skipped.items()]
        context = self._context(plan, person)
        for channel in chosen:
            doc = await self._message(plan, person, channel, reachable.address(channel), context)
            docs.append(self._zns_first(doc, plan, person, context) if channel == "sms" and zalo else doc)
        return docs

    def _zns_first(self, doc: dict[str, Any], plan: Plan, person: Recipient, context: dict[str, Any]) -> dict[str, Any]:
        """A service SMS whose notification has a ZNS template goes by ZNS first; the SMS
        rides along as the fallback (one delivery: exactly one of them is sent)."""
        assert self.zns is not None
        template_id = self.zns.template(plan.route.notification, person.language)
        if template_id is None or plan.route.category != "service" or plan.claim:
            return doc
        fallback = {k: doc.pop(k) for k in ("content", "segments", "encoding", "unicode") if k in doc}
        doc["channel"] = "zns"
        doc["fallback"] = fallback
        doc["content"] = {
            "template_id": template_id,
            "template_data": template_data(plan.route.notification, context),
            "text": fallback["content"]["text"],
        }
        return doc

    def _context(self, plan: Plan, person: Recipient) -> dict[str, Any]:
        return {
            **self.base_context(),
            "full_name": person.full_name,
            "language": person.language,
            **(plan.extra_context or {}),
            **person.context,
            "has_qr": "qr" in person.attachments,
        }

    async def _message(
        self, plan: Plan, person: Recipient, channel: str, address: str | None, context: dict[str, Any]
    ) -> dict[str, Any]:
        doc = {
            "_id": plan.key(person, channel),
            **plan.base(person),
            "channel": channel,
            "to": address,
            "to_name": person.full_name,
        }
        doc.update(await self._render(plan.route, channel, person, context))
        if person.attachments and channel == "email":
            doc["attachments"] = dict(person.attachments)
        if plan.claim:
            doc.update(plan.claim)
        return doc

    async def _scrub_erased_meanwhile(self, member_ids: list[str]) -> None:
        """Someone erased while we planned a campaign page: the erasure may have scrubbed
        the log before our insert, so scrub again. (Erasure marks the contact first,
        then the log.)"""
        if not member_ids:
            return
        for member_id in await self.contacts.erased_among(member_ids):
            await self.deliveries.erase_member(member_id)

    async def _render(self, route: Route, channel: str, person: Recipient, context: dict[str, Any]) -> dict[str, Any]:
        source = await self.templates.active(route.notification, channel, person.language)
        if source is None:
            raise TemplateMissing(f"no {channel} template for {route.notification}")
        fields: dict[str, Any] = {"template_version": source.version, "language": source.language}
        if channel == "email":
            return fields | await self._email(route, source, person, context)
        s = self.settings
        announcement = (s.sms_announcement_tag, s.sms_opt_out_text) if route.category == "announcement" else None
        sms = await self.renderer.off_loop(
            self.renderer.sms, source, source.language, context, unicode=s.sms_unicode, announcement=announcement
        )
        fields.update(
            content={"text": sms.text}, segments=sms.size.segments, encoding=sms.size.encoding, unicode=s.sms_unicode
        )
        return fields

    async def _email(self, route: Route, source: Any, person: Recipient, context: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if route.category == "announcement":
            assert self.links is not None
            url = self.links.unsubscribe_url(person.recipient_id, "email")
            context = {**context, "unsubscribe_url": url}
            fields["headers"] = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        rendered = await self.renderer.off_loop(self.renderer.email, source, source.language, context)
        fields["content"] = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
        return fields
