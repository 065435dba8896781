"""Contests wiring: reading this file tells what the service does.

Editions of the federation's two contests are opened with their rules; entries come
in with their documents (GridFS); the board screens them; judges on each field's
panel score the entries assigned to them, never one they have a conflict with; the
board ranks, overrides with reasons, publishes, prints the award decision and the
certificates, and forwards winners to the national contest. Every change an
entrant should hear of leaves through the outbox; membership's events keep the
projections of members and organisations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.contests import api, store
from services.contests.announcing import Links
from services.contests.certificates import Certificates
from services.contests.documents import DocumentDesk
from services.contests.editions import EditionDesk
from services.contests.endpoints import api as declarations
from services.contests.entering import EntryDesk
from services.contests.exports import Exports
from services.contests.filetypes import FileRules
from services.contests.followups import FollowUps
from services.contests.handlers import ContestHandlers
from services.contests.judging import Judging
from services.contests.panels import Panels
from services.contests.projections import Projections
from services.contests.publishing import Publishing
from services.contests.ranking import Ranking
from services.contests.reach import Deps
from services.contests.screening import Screening
from shared.access import OrganizationTree
from shared.clock import now_utc
from shared.http import make_app
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "contests"
DEPS = web.AppKey("deps", Deps)


def file_rules(settings: Settings) -> FileRules:
    return FileRules(
        {
            "pdf": settings.contests_pdf_max_bytes,
            "image": settings.contests_image_max_bytes,
            "drawing": settings.contests_drawing_max_bytes,
        },
        settings.contests_entry_max_documents,
    )


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    declarations.setup(app)
    assert api.EDITIONS  # api.py binds every declared endpoint when imported

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, outbox=store.OUTBOX, app=app) as rt:
            projections = Projections(rt.db)
            deps = Deps(
                editions=store.Editions(rt.db),
                entries=store.Entries(rt.db),
                sheets=store.Sheets(rt.db),
                judges=store.Judges(rt.db),
                files=store.Files(rt.db),
                archive=store.Archive(rt.db),
                projections=projections,
                tree=OrganizationTree(projections.parent_map),
                links=Links.of(settings.public_base_url),
                now=now_utc,
            )
            ranking = Ranking(deps)
            app[DEPS] = deps
            app[api.EDITIONS] = EditionDesk(deps)
            app[api.ENTRIES] = EntryDesk(deps)
            app[api.DOCUMENTS] = DocumentDesk(deps, file_rules(settings))
            app[api.SCREENING] = Screening(deps)
            app[api.PANELS] = Panels(deps)
            app[api.JUDGING] = Judging(deps)
            app[api.RANKING] = ranking
            app[api.PUBLISHING] = Publishing(deps, ranking, settings.contests_font)
            app[api.CERTIFICATES] = Certificates(deps, settings.contests_font)
            app[api.EXPORTS] = Exports(deps, ranking)
            app[api.FOLLOWUPS] = FollowUps(deps)

            ContestHandlers(deps).subscribe(rt.bus)
            await rt.start()
            yield

    app.cleanup_ctx.append(runtime)
    return app
