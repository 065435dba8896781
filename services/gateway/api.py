"""Gateway HTTP handlers: the public API surface."""

from __future__ import annotations

from aiohttp import web

from services.gateway.openapi import openapi_document
from services.gateway.proxy import ROUTES, Upstreams
from shared.contracts import asyncapi_document
from shared.http import NotFound, json_response
from shared.identity import Identity

UPSTREAMS = web.AppKey("upstreams", Upstreams)
# Until partner keys and staff accounts land, callers act as the local operator.
LOCAL_OPERATOR = Identity(sub="system:local-operator", roles=("admin",))


async def proxy(request: web.Request) -> web.StreamResponse:
    tail = request.match_info["tail"]
    resource = tail.split("/", 1)[0]
    service = ROUTES.get(resource)
    if service is None:
        raise NotFound(f"No API resource named {resource!r}")
    return await request.app[UPSTREAMS].forward(request, service, "/" + tail, LOCAL_OPERATOR)


async def asyncapi(request: web.Request) -> web.Response:
    return json_response(asyncapi_document())


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/asyncapi.json", asyncapi)
    app.router.add_get("/api/v1/openapi.json", openapi)
    app.router.add_route("*", "/api/v1/{tail:.+}", proxy)
