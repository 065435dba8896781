"""Events wiring: reading this file tells what the service does.

Staff and partner systems organise events (seminars, trainings, conferences) and move
them through their lifecycle; people register through partners or staff and are
confirmed with a ticket or waitlisted with a place; a freed seat goes to the waiting
list's head at once; tickets are checked in at the door; trainings issue
certificates. Every change is announced through the outbox. Membership's members and
organisations are kept as projections from its events; reminders fall due before
each event; a healer on every replica moves seats left free while people wait and
gives back seats of registration batches whose process died.

None of the loops polls fast while nothing happens: the reminders scheduler sleeps
until its next item is due (publishing an event here wakes it), the batch-lease
renewer only works while a batch is being written, and the healer looks when told
to by what it saw or heard (seating.py); each has a safety-net look every
SAFETY_NET_SECONDS for work another replica left.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from services.events import api, endpoints, store
from services.events.announcements import Links
from services.events.certificates import Certificates
from services.events.checking_in import Door
from services.events.exports import Exports
from services.events.handlers import EventHandlers, subscribe_registration_news
from services.events.lifecycle import Lifecycle
from services.events.organising import EventDesk
from services.events.projections import MemberProjection, OrganizationProjection
from services.events.reach import Deps
from services.events.registering import Registering
from services.events.registrations import Registrations
from services.events.reminders import Reminders, parse_hours
from services.events.seating import SAFETY_NET_SECONDS, Seating
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
            every = settings.events_scheduler_poll_seconds
            seating = Seating(deps, look_seconds=every)
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
            healer = BackgroundLoop("events-heal-waitlists", _healing(seating), idle_seconds=SAFETY_NET_SECONDS)

            def registration_heard() -> None:
                delay = seating.registrations_heard()
                if delay is not None:  # None: the look promised before has not been made yet
                    healer.notify_in(delay)

            subscribe_registration_news(rt.bus, registration_heard)
            await desk.index_titles()
            await rt.start()
            scheduler = Scheduler(
                reminders.items,
                reminders.job,
                name="event-reminders",
                poll_seconds=SAFETY_NET_SECONDS,
                max_idle_seconds=SAFETY_NET_SECONDS,
            )
            app[SCHEDULER] = scheduler
            scheduler.start()
            # Renews this replica's batch leases well inside their lifetime (nothing to do between batches).
            leases = BackgroundLoop("events-batch-leases", _renewing(seating), idle_seconds=SAFETY_NET_SECONDS)
            seating.in_flight.on_added = leases.notify
            leases.start()
            healer.start()
            try:
                yield
            finally:
                seating.in_flight.on_added = None
                await healer.stop()
                await leases.stop()
                await scheduler.stop()

    app.cleanup_ctx.append(runtime)
    return app


def _healing(seating: Seating) -> Callable[[], Awaitable[bool | float]]:
    async def step() -> bool | float:
        promoted = await seating.heal()
        if promoted:
            log.info("waitlists.healed", promoted=promoted)
        wait = seating.next_look_in()  # when what it saw or heard calls for a look; else the safety net
        return False if wait is None else wait

    return step


def _renewing(seating: Seating) -> Callable[[], Awaitable[bool | float]]:
    async def step() -> bool | float:
        wait = await seating.renew_due()
        return False if wait is None else wait

    return step
