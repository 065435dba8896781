"""Webhooks HTTP handlers: parse, call one use case, answer."""

from __future__ import annotations

from aiohttp import web

from services.webhooks import endpoints
from services.webhooks.delivery_log import DeliveryLog
from services.webhooks.endpoints import DeliveryQuery, EndpointIn, EndpointPatch, EndpointQuery, RotateIn
from services.webhooks.subscribing import Subscriptions
from shared import parking
from shared.http import current_identity, json_response, language

SUBSCRIPTIONS = web.AppKey("subscriptions", Subscriptions)
DELIVERY_LOG = web.AppKey("delivery_log", DeliveryLog)
NO_STORE = {"Cache-Control": "no-store"}  # answers that carry a secret


def _endpoint_id(request: web.Request) -> str:
    return request.match_info["endpoint_id"]


@endpoints.list_offers.handles
async def list_offers(request: web.Request) -> web.Response:
    return json_response(await request.app[SUBSCRIPTIONS].offers(current_identity(request)))


@endpoints.create_endpoint.handles
async def create_endpoint(request: web.Request, body: EndpointIn) -> web.Response:
    created = await request.app[SUBSCRIPTIONS].register(current_identity(request), body)
    location = {"Location": f"/api/v1/webhooks/endpoints/{created['id']}"}
    return json_response(created, status=201, headers={**location, **NO_STORE})


@endpoints.list_endpoints.handles
async def list_endpoints(request: web.Request, query: EndpointQuery) -> web.Response:
    return json_response(await request.app[SUBSCRIPTIONS].page(current_identity(request), query))


@endpoints.get_endpoint.handles
async def get_endpoint(request: web.Request) -> web.Response:
    return json_response(await request.app[SUBSCRIPTIONS].show(current_identity(request), _endpoint_id(request)))


@endpoints.update_endpoint.handles
async def update_endpoint(request: web.Request, body: EndpointPatch) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[SUBSCRIPTIONS].change(who, _endpoint_id(request), body))


@endpoints.delete_endpoint.handles
async def delete_endpoint(request: web.Request) -> web.Response:
    await request.app[SUBSCRIPTIONS].remove(current_identity(request), _endpoint_id(request))
    return web.Response(status=204)


@endpoints.rotate_secret.handles
async def rotate_secret(request: web.Request, body: RotateIn) -> web.Response:
    who = current_identity(request)
    rotated = await request.app[SUBSCRIPTIONS].rotate(who, _endpoint_id(request), body.overlap_hours)
    return json_response(rotated, headers=NO_STORE)


@endpoints.test_endpoint.handles
async def test_endpoint(request: web.Request) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[DELIVERY_LOG].test(who, _endpoint_id(request), language(request)))


@endpoints.list_deliveries.handles
async def list_deliveries(request: web.Request, query: DeliveryQuery) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[DELIVERY_LOG].page(who, _endpoint_id(request), query))


@endpoints.redeliver.handles
async def redeliver(request: web.Request) -> web.Response:
    who, delivery_id = current_identity(request), request.match_info["delivery_id"]
    return json_response(await request.app[DELIVERY_LOG].redeliver(who, _endpoint_id(request), delivery_id), status=202)


endpoints.list_parked.handles(parking.list_parked)
endpoints.replay_parked.handles(parking.replay_parked)
