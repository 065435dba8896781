"""Gateway wiring: reading this file tells what the service does."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.gateway import api
from services.gateway.proxy import Upstreams
from shared.http import add_ready_check, make_app
from shared.settings import Settings


def create_app(settings: Settings) -> web.Application:
    # The gateway is the one place identities come from, so it checks none.
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=None)
    api.setup_routes(app)

    async def upstreams(app: web.Application) -> AsyncIterator[None]:
        async with Upstreams(settings) as client:
            app[api.UPSTREAMS] = client
            add_ready_check(app, "upstreams", client.ready)
            yield

    app.cleanup_ctx.append(upstreams)
    return app
