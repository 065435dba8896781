"""Past one process (issue 13): a service with several replicas behind the gateway,
and several gateways that know together what one knew alone. Two gateway apps run
in this process against the real broker and the embedded store."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from shared.api import Api
from tests.integration.gateway.conftest import ADMIN_PASSWORD, login, new_key
from tests.support import eventually

pytestmark = pytest.mark.integration

DECLARED = Api("events")
DECLARED.endpoint("list_events", "GET", "/events", summary="list", scope="events:read")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def replica(name: str, hits: list[str], ready: dict[str, bool]) -> web.Application:
    async def listing(request: web.Request) -> web.Response:
        hits.append(name)
        return web.json_response({"items": [], "replica": name})

    async def readyz(request: web.Request) -> web.Response:
        return web.json_response({}, status=200 if ready[name] else 503)

    app = web.Application()
    app.router.add_get("/events", listing)
    app.router.add_get("/readyz", readyz)
    return app


# --- several replicas of a service ------------------------------------------------------


async def test_requests_go_round_the_ready_replicas_and_one_failing_readiness_is_taken_out(
    make_gateway, aiohttp_server
):
    hits: list[str] = []
    ready = {"a": True, "b": True}
    servers = [await aiohttp_server(replica(name, hits, ready)) for name in ("a", "b")]
    urls = ",".join(str(s.make_url("")).rstrip("/") for s in servers)
    gateway = await make_gateway({"events": DECLARED}, events_url=urls, gateway_probe_seconds=0.4)
    admin = bearer((await login(gateway, "admin", ADMIN_PASSWORD))["access_token"])
    for _ in range(10):
        assert (await gateway.get("/api/v1/events", headers=admin)).status == 200
    assert hits.count("a") == 5 and hits.count("b") == 5

    ready["b"] = False  # b says it is not ready: taken out at the next check

    async def only_a() -> bool:
        hits.clear()
        for _ in range(6):
            assert (await gateway.get("/api/v1/events", headers=admin)).status == 200
        return set(hits) == {"a"}

    await eventually(only_a, timeout=5, what="b out of rotation")
    ready["b"] = True  # and back in once it passes again

    async def both() -> bool:
        hits.clear()
        for _ in range(6):
            await gateway.get("/api/v1/events", headers=admin)
        return set(hits) == {"a", "b"}

    await eventually(both, timeout=5, what="b back in rotation")


async def test_a_replica_that_is_down_costs_callers_nothing(make_gateway, aiohttp_server):
    hits: list[str] = []
    up = await aiohttp_server(replica("a", hits, {"a": True}))
    down = "http://127.0.0.1:1"  # nothing listens there
    gateway = await make_gateway(
        {"events": DECLARED}, events_url=f"{down},{str(up.make_url('')).rstrip('/')}", gateway_probe_seconds=30.0
    )
    admin = bearer((await login(gateway, "admin", ADMIN_PASSWORD))["access_token"])
    statuses = [(await gateway.get("/api/v1/events", headers=admin)).status for _ in range(6)]
    assert statuses == [200] * 6 and len(hits) == 6  # refused connections are tried on the other replica


# --- several gateways ---------------------------------------------------------------------


async def gateways(make_gateway, **changes):
    first = await make_gateway(**changes)
    second = await make_gateway(**changes)
    admin = bearer((await login(first, "admin", ADMIN_PASSWORD))["access_token"])
    return first, second, admin


async def refused_within_a_second(gateway, path: str, headers: dict[str, str]) -> float:
    started = time.monotonic()

    async def refused() -> bool:
        return (await gateway.get(path, headers=headers)).status == 401

    await eventually(refused, timeout=1.0, interval=0.02, what=f"{path} refused on the other gateway")
    return time.monotonic() - started


async def test_a_revoked_key_stops_working_on_every_gateway_within_a_second(make_gateway):
    first, second, admin = await gateways(make_gateway)
    key = await new_key(first, admin, ["members:read"])
    assert (await second.get("/api/v1/members", headers=bearer(key["key"]))).status == 200  # now remembered there
    assert (await first.delete(f"/api/v1/admin/api-keys/{key['id']}", headers=admin)).status == 200
    await refused_within_a_second(second, "/api/v1/members", bearer(key["key"]))


async def test_a_logout_ends_the_token_on_every_gateway_within_a_second(make_gateway):
    first, second, _ = await gateways(make_gateway)
    token = bearer((await login(first, "admin", ADMIN_PASSWORD))["access_token"])
    assert (await second.get("/api/v1/auth/me", headers=token)).status == 200
    assert (await first.post("/api/v1/auth/logout", headers=token)).status == 204
    await refused_within_a_second(second, "/api/v1/auth/me", token)


@pytest.mark.parametrize(
    "change",
    [
        ("DELETE", "/api/v1/admin/staff/tuan", None),  # disabled
        ("PATCH", "/api/v1/admin/staff/tuan", {"role": "manager", "organization_id": "hoi-tin-hoc"}),  # demoted
        ("POST", "/api/v1/admin/staff/tuan/password", {"new_password": "một-mật-khẩu-khác"}),  # password reset
    ],
)
async def test_a_changed_staff_account_stops_working_on_every_gateway_within_a_second(make_gateway, change):
    first, second, admin = await gateways(make_gateway)
    created = await first.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={"username": "tuan", "password": "tuan-password-long", "role": "admin"},
    )
    assert created.status == 201
    token = bearer((await login(first, "tuan", "tuan-password-long"))["access_token"])
    assert (await second.get("/api/v1/admin/staff", headers=token)).status == 200
    method, path, body = change
    assert (await first.request(method, path, headers=admin, json=body)).status == 200
    await refused_within_a_second(second, "/api/v1/admin/staff", token)


async def test_a_callers_rate_limit_holds_across_gateways(make_gateway):
    rate, burst = 20.0, 10
    first, second, admin = await gateways(make_gateway, gateway_rate_per_second=rate, gateway_rate_burst=burst)
    key = bearer((await new_key(first, admin, ["members:read"]))["key"])
    await asyncio.sleep(burst / rate)  # the address's bucket is full again after logging in and making the key
    admitted = 0
    started = time.monotonic()
    deadline = started + 3.0

    async def caller(gateway) -> None:
        nonlocal admitted
        while time.monotonic() < deadline:
            resp = await gateway.get("/api/v1/auth/me", headers=key)  # 403 for a key: cheap, yet rate-limited
            if resp.status != 429:
                admitted += 1
            else:
                await asyncio.sleep(0.01)

    await asyncio.gather(*(caller(gw) for gw in (first, second, first, second)))
    elapsed = time.monotonic() - started
    allowed = burst + rate * elapsed
    assert 0.8 * allowed <= admitted <= 1.2 * allowed, (admitted, allowed)
