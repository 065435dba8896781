"""The proxy's behaviour towards sick services, against real HTTP servers that are
slow or drop connections, standing where the events service would be."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from pydantic import BaseModel, ConfigDict

from shared.api import Api
from tests.integration.gateway.conftest import ADMIN_PASSWORD, login

pytestmark = pytest.mark.integration


class EventPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str


@pytest.fixture
async def sick(aiohttp_server):
    """A stand-in events service: slow on /events, drops the first connection on
    /events/{id}, echoes the streamed body size on POST /events."""
    hits: dict[str, int] = {}

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"items": []})

    async def flaky(request: web.Request) -> web.StreamResponse:
        key = f"{request.method} {request.path}"
        hits[key] = hits.get(key, 0) + 1
        if hits[key] == 1:
            request.transport.close()  # the connection dies before any answer
            await asyncio.sleep(0.1)
        return web.json_response({"id": request.match_info["event_id"], "seen": request.headers.get("X-Request-ID")})

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/csv"})
        await response.prepare(request)
        for i in range(2000):
            await response.write(f"{i},{'x' * 500}\n".encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/events", slow)
    app.router.add_route("*", "/events/{event_id}", flaky)
    app.router.add_get("/events/{event_id}/export", big)

    async def count(request: web.Request) -> web.Response:
        size = 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
        return web.json_response({"bytes": size, "type": request.content_type})

    app.router.add_post("/events/{event_id}/import", count)

    async def cookie(request: web.Request) -> web.Response:
        hits.setdefault("cookies", []).append(request.headers.get("Cookie"))
        response = web.json_response({"ok": True})
        response.set_cookie("session", "for-the-first-caller-only")
        return response

    app.router.add_get("/events/{event_id}/cookie", cookie)
    server = await aiohttp_server(app)
    server.hits = hits
    return server


async def _declared(request):
    raise AssertionError("the gateway forwards; it never calls a service's handler")


# What the stand-in declares, as a service's api.py would.
STAND_IN = Api("events")
STAND_IN.route("GET", "/events", summary="slow", scope="events:read")(_declared)
STAND_IN.route("GET", "/events/{event_id}", summary="flaky", scope="events:read")(_declared)
STAND_IN.route("PATCH", "/events/{event_id}", summary="flaky write", scope="events:write", body=EventPatch)(_declared)
STAND_IN.route(
    "POST",
    "/events/{event_id}/import",
    summary="counts an upload",
    scope="events:write",
    request_media={"text/csv": {"type": "string"}},
    max_body_bytes=300_000,
)(_declared)
STAND_IN.route("GET", "/events/{event_id}/cookie", summary="sets a cookie", scope="events:read")(_declared)
STAND_IN.route(
    "GET",
    "/events/{event_id}/export",
    summary="big",
    scope="events:read",
    response_media={"text/csv": {"type": "string"}},
)(_declared)


@pytest.fixture
async def via(make_gateway, sick):
    gateway = await make_gateway(
        {"events": STAND_IN}, events_url=str(sick.make_url("")).rstrip("/"), gateway_upstream_timeout_seconds=0.5
    )
    token = (await login(gateway, "admin", ADMIN_PASSWORD))["access_token"]
    gateway.staff = {"Authorization": f"Bearer {token}"}
    return gateway


async def test_a_slow_service_answers_504_within_the_route_timeout(via):
    started = time.monotonic()
    resp = await via.get("/api/v1/events", headers=via.staff)
    assert resp.status == 504 and time.monotonic() - started < 4
    assert (await resp.json())["type"].endswith("/upstream-timeout")


async def test_idempotent_requests_are_retried_once_and_others_never(via, sick):
    resp = await via.get("/api/v1/events/e-1", headers={**via.staff, "X-Request-ID": "retry-1"})
    assert resp.status == 200 and (await resp.json()) == {"id": "e-1", "seen": "retry-1"}
    assert sick.hits["GET /events/e-1"] == 2
    resp = await via.patch("/api/v1/events/e-2", headers=via.staff, json={"title": "Hội thảo"})
    assert resp.status == 503
    assert sick.hits["PATCH /events/e-2"] == 1


async def test_large_answers_and_uploads_stream_through_within_the_route_limit(via):
    resp = await via.get("/api/v1/events/e-1/export", headers=via.staff)
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/csv"
    lines = (await resp.read()).decode().splitlines()
    assert len(lines) == 2000 and lines[-1].startswith("1999,")

    async def upload(n: int):
        for _ in range(n):
            yield b"x" * 10_000

    resp = await via.post(
        "/api/v1/events/e-1/import", headers={**via.staff, "Content-Type": "text/csv"}, data=upload(25)
    )
    assert resp.status == 200 and (await resp.json()) == {"bytes": 250_000, "type": "text/csv"}
    resp = await via.post(
        "/api/v1/events/e-1/import", headers={**via.staff, "Content-Type": "text/csv"}, data=upload(40)
    )
    assert resp.status == 413 and (await resp.json())["max_bytes"] == 300_000
    resp = await via.post("/api/v1/events/e-1/import", headers={**via.staff, "Content-Type": "image/png"}, data=b"x")
    assert resp.status == 415


async def test_traffic_counters_survive_a_restart(make_gateway):
    first = await make_gateway()
    await first.get("/api/v1/openapi.json")
    counts = await (await first.get("/api/v1/stats/traffic")).json()
    assert counts["today"] >= 1 and counts["total"] == counts["today"] and counts["online_now"] >= 1
    await first.close()
    second = await make_gateway()
    again = await (await second.get("/api/v1/stats/traffic", headers={"X-Forwarded-For": "203.0.113.9"})).json()
    assert again["total"] >= counts["total"]


async def test_metrics_count_requests_by_route_template(gateway, admin):
    await gateway.get("/api/v1/members/no-such-member", headers=admin)
    text = await (await gateway.get("/metrics", headers=admin)).text()  # the public port wants credentials
    assert 'route="/api/v1/members/{member_id}"' in text and 'status="404"' in text
    assert "lienhiep_http_request_duration_seconds_bucket" in text


async def test_the_docs_page_and_documents_are_served(gateway):
    page = await gateway.get("/api/v1/docs")
    assert page.status == 200 and "openapi.json" in await page.text()
    doc = await (await gateway.get("/api/v1/openapi.json")).json()
    assert doc["openapi"] == "3.1.0" and "/api/v1/auth/login" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    asyncapi = await (await gateway.get("/api/v1/asyncapi.json")).json()
    assert asyncapi["asyncapi"].startswith("3.") or asyncapi["asyncapi"].startswith("2.")


async def test_a_cookie_one_caller_gets_is_never_sent_for_another(via, sick):
    first = await via.get("/api/v1/events/e-1/cookie", headers=via.staff)
    assert "session=for-the-first-caller-only" in first.headers.get("Set-Cookie", "")
    await via.get("/api/v1/events/e-1/cookie", headers={**via.staff, "Cookie": "mine=1"})
    assert sick.hits["cookies"] == [None, None]  # the gateway's client keeps none and forwards none
