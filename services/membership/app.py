"""Membership wiring: reading this file tells what the service does.

- HTTP: organisations (tree, imports), members (search, lifecycle, imports and
  exports, personal data), parked messages; see endpoints.py and api.py.
- Publishes through the outbox of `organizations` and `members`: organization.*,
  member.*, membership.*; consumes nothing.
- Scheduled: an expiry sweep (membership.expiring 30 and 7 days before a term
  ends, membership.lapsed after it), claimed by one replica at a time through
  due items, and each notice written once by a conditional update of the member.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from services.membership import api, endpoints, store
from services.membership.admitting import Admissions
from services.membership.erasing import Erasure
from services.membership.expiring import Expiry
from services.membership.exporting import Exports
from services.membership.finding import Finding
from services.membership.importing import MemberImports
from services.membership.organizations import Organizations
from services.membership.profiles import Profiles
from services.membership.reach import Deps
from services.membership.standing import Standing
from shared.access import OrganizationTree
from shared.clock import epoch
from shared.http import make_app
from shared.scheduler import DueItems, Scheduler
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "membership"
SCHEDULER = web.AppKey("membership_scheduler", Scheduler)


async def schedule_sweep(items: DueItems, slot: int, every: float) -> None:
    """The sweep of time slot `slot` (slot × every seconds since 1970). Its key is the
    slot, so every replica scheduling it makes one item."""
    await items.schedule(f"expiry-sweep:{slot}", slot * every, {"kind": "expiry-sweep", "slot": slot})


def expiry_job(expiry: Expiry, items: DueItems, every: float):
    async def job(item: dict[str, Any]) -> list:
        await expiry.sweep()
        await schedule_sweep(items, int(item["payload"]["slot"]) + 1, every)
        return []

    return job


def use_cases(deps: Deps, settings: Settings) -> api.UseCases:
    return api.UseCases(
        organizations=Organizations(deps, federation_fallback=settings.federation_name),
        admissions=Admissions(deps),
        profiles=Profiles(deps),
        standing=Standing(deps),
        finding=Finding(deps),
        exports=Exports(deps),
        imports=MemberImports(deps, batch_size=settings.membership_import_batch_rows),
        erasure=Erasure(deps),
        expiry=Expiry(deps),
    )


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    endpoints.api.setup(app)
    app[api.SETTINGS] = settings

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, outbox=store.OUTBOX, app=app) as rt:
            orgs = store.OrganizationStore(rt.db)
            deps = Deps(
                orgs=orgs,
                members=store.MemberStore(rt.db),
                imports=store.ImportStore(rt.db),
                tree=OrganizationTree(orgs.parent_map),
                term_years=settings.membership_term_years,
            )
            cases = app[api.USE_CASES] = use_cases(deps, settings)
            await cases.finding.index_names()  # members stored before name search had terms
            # Membership publishes; it consumes nothing.
            await rt.start()
            every = settings.membership_expiry_sweep_seconds
            items = DueItems(rt.db[store.SCHEDULE])
            await schedule_sweep(items, int(epoch() // every), every)
            scheduler = Scheduler(
                items,
                expiry_job(cases.expiry, items, every),
                name="membership-expiry",
                poll_seconds=settings.membership_scheduler_poll_seconds,
            )
            app[SCHEDULER] = scheduler
            scheduler.start()
            try:
                yield
            finally:
                await scheduler.stop()
                await cases.imports.stop()

    app.cleanup_ctx.append(runtime)
    return app
