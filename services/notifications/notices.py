"""From an event to the deliveries its routes ask for (catalogue.ROUTES): for each
route, who should hear (the event's own people, or an event's registrants from the
registrations projection), then the planner (channels, rendering, one delivery per
person and channel under a deterministic key, so planning an event twice inserts
nothing new). Nothing is sent here: the dispatcher claims each delivery once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError

from services.notifications.catalogue import ROUTES, needs_registrants, recipients
from services.notifications.planner import Planner, TemplateMissing
from services.notifications.projecting import Projecting
from services.notifications.records import ContactDoc
from shared.contracts import EventData
from shared.logging import get_logger

log = get_logger(__name__)


class CannotRender(Exception):
    """A route's template cannot render this event; it will not on a retry either."""


@dataclass
class EventNotices:
    projecting: Projecting
    planner: Planner

    async def plan(
        self,
        event_id: str,
        event_type: str,
        data: EventData,
        raw: dict[str, Any],
        known: dict[str, ContactDoc] | None = None,
    ) -> int:
        """The deliveries of every route of this event (`raw`: its data as published;
        `known`: contacts the caller already has); how many were added."""
        planned = 0
        for route in ROUTES.get(event_type, []):
            about = needs_registrants(route, data)
            registrants = await self.projecting.registrants(about) if about else None
            people = recipients(route, data, raw, registrants)
            try:
                added = await self.planner.plan(
                    route, people, source_id=event_id, source_type=event_type, contacts=known
                )
            except (TemplateError, TemplateMissing, TypeError, ValueError) as exc:
                # The template's own error names what in the template failed; a TypeError or
                # ValueError may quote the event's data (a name, an address): its type only.
                said = f": {exc}" if isinstance(exc, TemplateError | TemplateMissing) else ""
                raise CannotRender(f"cannot render {route.notification}: {type(exc).__name__}{said}") from None
            planned += len(added)
        log.info("notify.planned", event_type=event_type, deliveries=planned)
        return planned
