"""Events wiring: reading this file tells what the service does.

Staff and partner systems organise events (seminars, trainings, conferences) and move
them through their lifecycle; people register through partners or staff and are
confirmed with a ticket or waitlisted with a place; a freed seat goes to the waiting
list's head at once; tickets are checked in at the door; trainings issue
certificates. Every change is announced through the outbox. Membership's members and
organisations are kept as projections from its events; reminders fall due before
each event; a healer on every replica moves seats left free while people wait and
gives back seats of registration batches whose process died.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from services.events import api, endpoints, store
from services.events.announcements import Links
from services.events.certificates import Certificates
from services.events.checking_in import Door
from services.events.exports import Exports
from services.events.handlers import EventHandlers
from services.events.lifecycle import Lifecycle
from services.events.organising import EventDesk
from services.events.projections import MemberProjection, OrganizationProjection
from services.events.reach import Deps
from services.events.registering import Registering
from services.events.registrations import Registrations
from services.events.reminders import Reminders, parse_hours
from services.events.seating import Seating
from shared.access import OrganizationTree
from shared.http import make_app
from shared.logging import get_logger
from shared.loops import BackgroundLoop
from shared.scheduler import DueItems, Scheduler
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "events"
log = get_logger(__name__)
DEPS = web.AppKey("events_deps", Deps)
SEATING = web.AppKey("seating", Seating)
HANDLERS = web.AppKey("event_handlers", EventHandlers)
SCHEDULER = web.AppKey("reminder_scheduler", Scheduler)


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    endpoints.api.setup(app)

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, outbox=store.OUTBOX, app=app) as rt:
            orgs = OrganizationProjection(rt.db)
            deps = Deps(
                events=store.Events(rt.db),
                regs=store.Registrations(rt.db),
                ledger=store.SeatLedger(rt.db),
                members=MemberProjection(rt.db),
                orgs=orgs,
                tree=OrganizationTree(orgs.parents),
                links=Links.from_settings(settings),
            )
            hours = parse_hours(settings.events_reminder_hours)
            reminders = Reminders(deps.events, deps.regs, DueItems(rt.db[store.REMINDERS]), deps.links, hours)
            seating = Seating(deps)
            registrations = Registrations(deps, seating)
            desk = EventDesk(deps, reminders)
            app[DEPS], app[SEATING] = deps, seating
            app[api.DESK] = desk
            app[api.LIFECYCLE] = Lifecycle(deps, desk, seating, reminders)
            app[api.REGISTERING] = Registering(deps, seating)
            app[api.REGISTRATIONS] = registrations
            app[api.DOOR] = Door(deps, registrations)
            app[api.CERTIFICATES] = Certificates(deps, settings)
            app[api.EXPORTS] = Exports(deps)
            app[HANDLERS] = handlers = EventHandlers(deps)
            handlers.subscribe(rt.bus)
            await desk.index_titles()
            await rt.start()
            every = settings.events_scheduler_poll_seconds
            scheduler = Scheduler(reminders.items, reminders.job, name="event-reminders", poll_seconds=every)
            app[SCHEDULER] = scheduler
            scheduler.start()
            # Renews this replica's batch leases well inside their lifetime, and heals.
            healer = BackgroundLoop(
                "events-heal-waitlists", _healing(seating), idle_seconds=min(every, seating.lease_seconds / 3)
            )
            healer.start()
            try:
                yield
            finally:
                await healer.stop()
                await scheduler.stop()

    app.cleanup_ctx.append(runtime)
    return app


def _healing(seating: Seating) -> Callable[[], Awaitable[bool]]:
    async def step() -> bool:
        promoted = await seating.heal()
        if promoted:
            log.info("waitlists.healed", promoted=promoted)
        return False  # every few seconds, whatever it found

    return step
