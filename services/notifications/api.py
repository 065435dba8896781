"""Notifications HTTP handlers."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.notifications.store import DeliveryStore
from shared.http import json_response, parse_query

DELIVERIES = web.AppKey("delivery_store", DeliveryStore)


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str | None = Field(None, max_length=64)
    status: Literal["sending", "deferred", "sent", "failed"] | None = None
    limit: int = Field(50, ge=1, le=200)


async def list_deliveries(request: web.Request) -> web.Response:
    q = parse_query(request, DeliveryQuery)
    items = await request.app[DELIVERIES].list(member_id=q.member_id, status=q.status, limit=q.limit)
    return json_response({"items": items})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/notifications/deliveries", list_deliveries)
