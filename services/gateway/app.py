"""Gateway wiring: reading this file tells what the service does.

Routes come from the endpoint declarations (every service's `endpoints.py` and the
gateway's own), never from a hand-written table. The gateway has its own database
(partner keys, staff accounts and logins, login guards, shared rate-limit buckets,
traffic counters), publishes what every replica must forget (revoked keys, ended
logins, changed staff accounts) through its outbox, and hears it back on a broadcast
subscription. `/metrics` on the public port needs credentials; an internal port may
serve it to scrapers (GATEWAY_METRICS_PORT).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from clients.console import create_console
from services.gateway import api, endpoints, store
from services.gateway.front import Front, Limits, decorate, preflight
from services.gateway.handlers import CredentialHandlers
from services.gateway.identifying import Callers
from services.gateway.logging_in import Logins
from services.gateway.openapi import PUBLIC_APIS, SERVICE_APIS, build_document, openapi_document
from services.gateway.partner_keys import PartnerKeys
from services.gateway.proxy import Proxy
from services.gateway.rate_limiting import SharedBuckets
from services.gateway.routing import RouteTable
from services.gateway.staff_accounts import StaffAccounts
from services.gateway.traffic import TrafficCounter
from services.gateway.upstreams import Upstreams
from shared.api import Api
from shared.errors import Invalid
from shared.http import add_ready_check, make_app, metrics_response
from shared.logging import get_logger
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "gateway"
FRONT = web.AppKey("front", Front)
log = get_logger(__name__)


async def to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/")


def create_app(settings: Settings, services: Mapping[str, Api] | None = None) -> web.Application:
    """`services`: the endpoint declarations of the services behind the gateway (by
    default every service's `endpoints.api`; tests may stand other servers there)."""
    # The gateway is the one place identities come from, so it checks none: it makes them.
    app = make_app(max_body_bytes=settings.gateway_import_body_bytes, identity_secret=None, metrics=False)
    services = SERVICE_APIS if services is None else services
    apis = {**services, "gateway": endpoints.api}
    table = RouteTable(apis)
    origins = frozenset(o.strip() for o in settings.gateway_cors_origins.split(",") if o.strip())
    app.middlewares.append(preflight(origins, table))
    app.on_response_prepare.append(decorate(origins))
    app[api.OPENAPI] = openapi_document() if apis == PUBLIC_APIS else build_document(apis)
    metrics_route = table.match("GET", f"{table.prefix}{endpoints.metrics.path}")

    async def dispatch(request: web.Request) -> web.StreamResponse:
        return await request.app[FRONT].handle(request)

    async def metrics(request: web.Request) -> web.StreamResponse:
        return await request.app[FRONT].handle(request, metrics_route)  # credentials, as /api/v1/metrics

    app.router.add_route("*", "/api/v1/{tail:.*}", dispatch)
    app.router.add_get("/metrics", metrics)
    # The staff console: a thin client of the API above, calling it over HTTP like any partner.
    app.add_subapp("/console", create_console(settings))
    app.router.add_get("/", to_console)  # someone typing the gateway's address in a browser

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with (
            ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, outbox=store.OUTBOX, app=app) as rt,
            Proxy(settings, Upstreams(settings, sorted(services))) as proxy,
            metrics_port(settings),
        ):
            gateway_store = store.GatewayStore(rt.db)
            callers = Callers(gateway_store, settings, lambda: rt.bus.connected)
            CredentialHandlers(callers).subscribe(rt.bus)
            logins = Logins(gateway_store, settings, callers)
            staff = StaffAccounts(gateway_store, logins, callers)
            traffic = TrafficCounter(gateway_store, settings.derived_secret("gateway-traffic"))
            app[api.LOGINS], app[api.STAFF], app[api.TRAFFIC] = logins, staff, traffic
            app[api.KEYS] = PartnerKeys(gateway_store, callers, table.scopes())
            app[FRONT] = Front(settings, table, callers, proxy, traffic, rate_limits(settings, gateway_store))
            add_ready_check(app, "upstreams", proxy.upstreams.ready)
            await bootstrap(staff, settings)
            await rt.start()
            traffic.start()
            try:
                yield
            finally:
                await traffic.stop()
                await callers.close()

    app.cleanup_ctx.append(runtime)
    return app


def rate_limits(settings: Settings, gateway_store: store.GatewayStore) -> Limits:
    """Each caller's limits, shared by every gateway replica through the store."""
    key = settings.derived_secret("gateway-traffic")
    rate, burst = settings.gateway_rate_per_second, settings.gateway_rate_burst
    return Limits(
        by_address=SharedBuckets(gateway_store, "address", rate, burst, key),
        by_credential=SharedBuckets(gateway_store, "credential", rate, burst, key),
        logins=SharedBuckets(
            gateway_store, "login", settings.gateway_login_rate_per_minute / 60.0, settings.gateway_login_burst, key
        ),
    )


def server_options(settings: Settings) -> dict[str, Any]:
    """aiohttp server options: a client that has not sent a request's headers within
    the header timeout is cut off (aiohttp closes a connection still waiting for a
    request when its keep-alive timer fires, which it also arms when a connection opens)."""
    return {"keepalive_timeout": settings.gateway_header_timeout_seconds}


async def bootstrap(staff: StaffAccounts, settings: Settings) -> None:
    try:
        generated = await staff.bootstrap(settings.lienhiep_bootstrap_admin_password)
    except Invalid as exc:
        raise SystemExit(
            "LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD is refused: at least 12 characters, not the username, "
            f"not a common password ({', '.join(e.code for e in exc.field_errors)})"
        ) from None
    if generated is not None:
        # Printed once, to the operator's terminal only: never into the logs.
        print(
            f"LienHiep: created staff account 'admin' with password {generated}\n"
            "          (set LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD to choose it); "
            "log in with POST /api/v1/auth/login",
            file=sys.stderr,
            flush=True,
        )


@asynccontextmanager
async def metrics_port(settings: Settings) -> AsyncIterator[None]:
    """/metrics without credentials on an internal port, for scrapers (none when the port is 0)."""
    if not settings.gateway_metrics_port:
        yield
        return

    async def metrics(request: web.Request) -> web.Response:
        return metrics_response()

    internal = web.Application()
    internal.router.add_get("/metrics", metrics)
    runner = web.AppRunner(internal, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.gateway_metrics_host, settings.gateway_metrics_port).start()
    try:
        yield
    finally:
        await runner.cleanup()
