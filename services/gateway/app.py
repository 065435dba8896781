"""Gateway wiring: reading this file tells what the service does.

Routes come from the endpoint registry (every service's `api.py` and the gateway's
own), never from a hand-written table. The gateway has its own database (partner
keys, staff accounts and logins, traffic counters) and no events.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from clients.console import create_console
from services.gateway import api, store
from services.gateway.auth import Authenticator
from services.gateway.front import Front, decorate, preflight
from services.gateway.openapi import PUBLIC_APIS, SERVICE_APIS, build_document, openapi_document
from services.gateway.proxy import Upstreams
from services.gateway.routing import RouteTable
from services.gateway.traffic import TrafficCounter
from shared.api import Api
from shared.http import add_ready_check, make_app
from shared.logging import get_logger
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "gateway"
FRONT = web.AppKey("front", Front)
log = get_logger(__name__)


def create_app(settings: Settings, services: Mapping[str, Api] | None = None) -> web.Application:
    """`services`: the endpoint declarations of the services behind the gateway (by
    default every service's `api.routes`; tests may stand other servers there)."""
    # The gateway is the one place identities come from, so it checks none: it makes them.
    app = make_app(max_body_bytes=settings.gateway_import_body_bytes, identity_secret=None)
    services = SERVICE_APIS if services is None else services
    apis = {**services, "gateway": api.routes}
    table = RouteTable(apis)
    origins = frozenset(o.strip() for o in settings.gateway_cors_origins.split(",") if o.strip())
    app.middlewares.append(preflight(origins, table))
    app.on_response_prepare.append(decorate(origins))
    app[api.OPENAPI] = openapi_document() if apis == PUBLIC_APIS else build_document(apis)
    app[api.SCOPES] = frozenset(table.scopes())

    async def dispatch(request: web.Request) -> web.StreamResponse:
        return await request.app[FRONT].handle(request)

    app.router.add_route("*", "/api/v1/{tail:.*}", dispatch)
    # The staff console: a thin client of the API above, calling it over HTTP like any partner.
    app.add_subapp("/console", create_console(settings))

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with (
            ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, app=app) as rt,
            Upstreams(settings, sorted(services)) as upstreams,
        ):
            gateway_store = store.GatewayStore(rt.db)
            auth = Authenticator(gateway_store, settings)
            traffic = TrafficCounter(gateway_store, settings.derived_secret("gateway-traffic"))
            app[api.AUTH], app[api.TRAFFIC] = auth, traffic
            app[FRONT] = Front(settings, table, auth, upstreams, traffic)
            add_ready_check(app, "upstreams", upstreams.ready)
            generated = await auth.bootstrap()
            if generated is not None:
                # Printed once, to the operator's terminal only: never into the logs.
                print(
                    f"LienHiep: created staff account 'admin' with password {generated}\n"
                    "          (set LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD to choose it); "
                    "log in with POST /api/v1/auth/login",
                    file=sys.stderr,
                    flush=True,
                )
            await rt.start()
            traffic.start()
            try:
                yield
            finally:
                await traffic.stop()
                await auth.close()

    app.cleanup_ctx.append(runtime)
    return app
