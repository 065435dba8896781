"""Members' choices: their preferences per channel and category, and the one-click
unsubscribe behind the link in every announcement (RFC 8058)."""

from __future__ import annotations

from typing import Any

from services.notifications.endpoints import Preferences
from services.notifications.links import InvalidToken, Links
from services.notifications.messages import MESSAGES
from services.notifications.projections import ContactStore
from services.notifications.rendering import Renderer
from services.notifications.rules import ServiceMessagesNeedAChannel, check_preferences, merged_preferences
from shared.errors import FieldError, Invalid, Problem
from shared.i18n import render
from shared.settings import Settings


def invalid_link() -> Problem:
    return Problem(
        400,
        "invalid-token",
        MESSAGES("notifications.invalid_link"),
        MESSAGES("notifications.invalid_link.detail"),
    )


class Choices:
    def __init__(self, settings: Settings, contacts: ContactStore, links: Links, renderer: Renderer) -> None:
        self.settings = settings
        self.contacts = contacts
        self.links = links
        self.renderer = renderer

    async def show(self, member_id: str) -> dict[str, Any]:
        stored = await self.contacts.get_preferences(member_id)
        return {"member_id": member_id, **merged_preferences(stored), "zalo": bool((stored or {}).get("zalo", True))}

    async def change(self, member_id: str, body: Preferences) -> dict[str, Any]:
        current = merged_preferences(await self.contacts.get_preferences(member_id))
        for category in ("service", "announcement"):
            for channel, value in getattr(body, category).model_dump().items():
                if value is not None:
                    current[category][channel] = value
        try:
            check_preferences(current)
        except ServiceMessagesNeedAChannel:
            raise Invalid(
                FieldError("service", MESSAGES("notifications.service_needs_a_channel"), "service_needs_a_channel"),
                detail=MESSAGES("notifications.service_needs_a_channel"),
            ) from None
        changes: dict[str, Any] = dict(current)
        if body.zalo is not None:
            changes["zalo"] = body.zalo
        await self.contacts.set_preferences(member_id, changes)
        return await self.show(member_id)

    def confirmation_page(self, token: str) -> tuple[str, bool]:
        """The page an unsubscribe link opens (it changes nothing), and whether the link is valid."""
        try:
            _, channel = self.links.read_unsubscribe(token)
            valid = True
        except InvalidToken:
            channel, valid = "", False
        s = self.settings
        page = self.renderer.page(
            "unsubscribe.html",
            {
                "valid": valid,
                "channel": channel,
                "federation": s.federation_name,
                "federation_en": s.federation_name_en,
            },
        )
        return page, valid

    async def unsubscribe(self, token: str) -> dict[str, Any]:
        try:
            recipient, channel = self.links.read_unsubscribe(token)
        except InvalidToken:
            raise invalid_link() from None
        current = merged_preferences(await self.contacts.get_preferences(recipient))
        current["announcement"][channel] = False
        await self.contacts.set_preferences(recipient, current)
        return {
            "channel": channel,
            "category": "announcement",
            "message": f"{render('notifications.unsubscribed', 'vi')} {render('notifications.unsubscribed', 'en')}",
        }
