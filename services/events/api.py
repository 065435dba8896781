"""Events HTTP handlers."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.events.store import EventStore
from shared.api import Api
from shared.http import json_response

STORE = web.AppKey("event_store", EventStore)
routes = Api("events")


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)


class EventList(BaseModel):
    items: list[dict]


@routes.route("GET", "/events", summary="Published events, soonest first", query=Page, response=EventList,
           scope="events:read")
async def list_events(request: web.Request, query: Page) -> web.Response:
    return json_response({"items": await request.app[STORE].list(query.limit)})
