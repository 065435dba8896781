"""Membership wiring: reading this file tells what the service does."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.membership import api, store
from shared.http import make_app
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "membership"


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    api.routes.setup(app)

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, outbox=[store.MEMBERS], app=app) as rt:
            app[api.STORE] = store.MemberStore(rt.db, rt.relay)
            # Membership publishes; it consumes nothing yet.
            await rt.start()
            yield

    app.cleanup_ctx.append(runtime)
    return app
