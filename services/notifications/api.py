"""Notifications HTTP handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.notifications.store import DeliveryStore
from shared.api import Api
from shared.http import json_response

DELIVERIES = web.AppKey("delivery_store", DeliveryStore)
routes = Api("notifications")


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str | None = Field(None, max_length=64)
    status: Literal["sending", "deferred", "sent", "failed"] | None = None
    limit: int = Field(50, ge=1, le=200)


class Delivery(BaseModel):
    key: str
    channel: Literal["email", "sms"]
    template: str
    member_id: str | None = None
    source_event_id: str
    source_event_type: str
    status: Literal["sending", "deferred", "sent", "failed"]
    attempts: int
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None


class DeliveryList(BaseModel):
    items: list[Delivery]


@routes.route("GET", "/notifications/deliveries", summary="The delivery log, newest first", query=DeliveryQuery,
           response=DeliveryList, admin_only=True)
async def list_deliveries(request: web.Request, query: DeliveryQuery) -> web.Response:
    items = await request.app[DELIVERIES].list(member_id=query.member_id, status=query.status, limit=query.limit)
    return json_response({"items": items})
