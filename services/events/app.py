"""Events wiring: reading this file tells what the service does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from services.events import api, store
from services.events.announcements import Links
from services.events.desk import EventDesk
from services.events.handlers import EventHandlers
from services.events.registrar import Registrar
from services.events.reminders import Reminders, parse_hours
from shared.http import make_app
from shared.logging import get_logger
from shared.scheduler import DueItems, Scheduler
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.waiting import pause

SERVICE = "events"
log = get_logger(__name__)
SCHEDULER = web.AppKey("reminder_scheduler", Scheduler)


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    api.routes.setup(app)
    app[api.SETTINGS] = settings

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, outbox=store.OUTBOX, app=app) as rt:
            links = Links.from_settings(settings)
            members = store.MemberProjection(rt.db)
            orgs = store.OrganizationProjection(rt.db)
            registrar = Registrar(rt.db, rt.relay, links, members, orgs)
            reminders = Reminders(
                rt.db, DueItems(rt.db[store.REMINDERS], rt.relay), links, parse_hours(settings.events_reminder_hours)
            )
            app[api.LINKS] = links
            app[api.REGISTRAR] = registrar
            app[api.DESK] = EventDesk(rt.db, rt.relay, links, orgs, registrar, reminders)

            handlers = EventHandlers(rt.db, members, orgs)
            rt.bus.subscribe(
                "member_projection", ["member.approved", "member.updated", "member.erased"], handlers.on_member_changed
            )
            rt.bus.subscribe(
                "organization_projection",
                ["organization.created", "organization.updated"],
                handlers.on_organization_changed,
            )
            await rt.start()
            scheduler = Scheduler(
                reminders.items,
                reminders.job,
                name="event-reminders",
                poll_seconds=settings.events_scheduler_poll_seconds,
            )
            app[SCHEDULER] = scheduler
            scheduler.start()
            healer = asyncio.create_task(
                _heal_forever(registrar, settings.events_scheduler_poll_seconds), name="events-heal-waitlists"
            )
            try:
                yield
            finally:
                healer.cancel()
                await asyncio.gather(healer, return_exceptions=True)
                await scheduler.stop()

    app.cleanup_ctx.append(runtime)
    return app


async def _heal_forever(registrar: Registrar, every: float) -> None:
    """Free seats never sit idle while people wait, whatever happened in between."""
    while True:
        try:
            promoted = await registrar.heal()
            if promoted:
                log.info("waitlists.healed", promoted=promoted)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("waitlists.heal_failed")
        await pause(every)
