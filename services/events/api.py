"""Events HTTP handlers."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.events.store import EventStore
from shared.http import json_response, parse_query

STORE = web.AppKey("event_store", EventStore)


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)


async def list_events(request: web.Request) -> web.Response:
    page = parse_query(request, Page)
    return json_response({"items": await request.app[STORE].list(page.limit)})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/events", list_events)
