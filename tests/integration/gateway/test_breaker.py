"""The circuit breaker against real HTTP servers standing where the events service
would be (issue 11, item 7): one caller's bad requests never open it for everyone;
it closes as soon as the service is ready again."""

from __future__ import annotations

import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from deploy.local.embedded_store import free_port
from shared.api import Api
from tests.integration.gateway.conftest import ADMIN_PASSWORD, login
from tests.support import eventually

pytestmark = pytest.mark.integration

DECLARED = Api("events")
DECLARED.endpoint("list_events", "GET", "/events", summary="list", scope="events:read")
DECLARED.endpoint("unsubscribe", "GET", "/events/public/{token}", summary="a public link", public=True)


def stand_in(state: dict[str, int]) -> web.Application:
    """An events service whose public link answers 500 for a malformed token (one
    route's bug), 400 for a bad one, and whose listing works."""

    async def listing(request: web.Request) -> web.Response:
        state["listed"] = state.get("listed", 0) + 1
        return web.json_response({"items": []})

    async def public(request: web.Request) -> web.Response:
        if request.match_info["token"].startswith("bad"):
            return web.json_response({"title": "bad token"}, status=400)
        raise RuntimeError("a malformed token crashes this route")

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.router.add_get("/events", listing)
    app.router.add_get("/events/public/{token}", public)
    app.router.add_get("/readyz", ready)
    return app


async def test_a_routes_500s_and_4xx_never_open_the_circuit_for_everyone(make_gateway, aiohttp_server):
    state: dict[str, int] = {}
    server = await aiohttp_server(stand_in(state))
    gateway = await make_gateway({"events": DECLARED}, events_url=str(server.make_url("")).rstrip("/"))
    admin = {"Authorization": f"Bearer {(await login(gateway, 'admin', ADMIN_PASSWORD))['access_token']}"}
    for i in range(5):  # anonymous callers with a malformed token, five times in a row
        assert (await gateway.get(f"/api/v1/events/public/x{i}.é")).status == 500
    resp = await gateway.get("/api/v1/events", headers=admin)
    assert resp.status == 200 and state["listed"] == 1
    for i in range(5):
        assert (await gateway.get(f"/api/v1/events/public/bad{i}")).status == 400
    resp = await gateway.get("/api/v1/events", headers=admin)
    assert resp.status == 200 and state["listed"] == 2


async def test_the_circuit_closes_as_soon_as_the_service_is_ready_again(make_gateway):
    port = free_port()
    state: dict[str, int] = {}
    gateway = await make_gateway(
        {"events": DECLARED},
        events_url=f"http://127.0.0.1:{port}",
        gateway_breaker_failures=2,
        gateway_breaker_reset_seconds=60.0,  # far longer than the test: only readiness can close it
        gateway_probe_seconds=0.4,
    )
    admin = {"Authorization": f"Bearer {(await login(gateway, 'admin', ADMIN_PASSWORD))['access_token']}"}
    for _ in range(3):
        assert (await gateway.get("/api/v1/events", headers=admin)).status == 503
    server = TestServer(stand_in(state), port=port)
    await server.start_server()
    try:
        back = time.monotonic()

        async def served() -> bool:
            return (await gateway.get("/api/v1/events", headers=admin)).status == 200

        await eventually(served, timeout=10, interval=0.05, what="requests served again")
        assert time.monotonic() - back < 2  # a readiness check, not the 60 s pause
    finally:
        await server.close()
