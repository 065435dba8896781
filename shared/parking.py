"""Parked messages, one staff endpoint family for every service.

What could not be handled or sent waits for staff in two places:
- messages a consumer gave up on after its retries (the bus's `<queue>.dead`);
- events the outbox relay set aside after the broker kept refusing them.

Each service declares the family in its endpoints.py with its own prefix, so the
gateway routes it (the paths are written out there, so a search finds them):

    list_parked = api.endpoint("list_parked", "GET", "/membership/parked-messages", **parking.LIST)
    replay_parked = api.endpoint("replay_parked", "POST", "/membership/parked-messages/{consumer}/replay",
                                 **parking.REPLAY)

and binds the handlers here in its api.py:

    endpoints.list_parked.handles(parking.list_parked)
    endpoints.replay_parked.handles(parking.replay_parked)

`{consumer}` is a handler's name (`welcome_email`), or `outbox` for the events set aside.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from shared.errors import NotFound
from shared.http import json_response
from shared.i18n import Catalogue
from shared.service import RUNTIME

OUTBOX = "outbox"
MESSAGES = Catalogue(
    {
        "parking.unknown_consumer": {
            "vi": "Dịch vụ không có bộ xử lý tên {consumer}",
            "en": "This service has no consumer named {consumer}",
        },
    }
)


class ParkedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=500, description="Messages shown per consumer")


class ParkedMessage(BaseModel):
    message_id: str | None
    type: str | None
    attempts: int | None = None
    last_error: str | None = None


class ConsumerParking(BaseModel):
    consumer: str = Field(description="The handler's name; replay with POST …/{consumer}/replay")
    queue: str
    parked: int = Field(description="Messages parked (all of them, not only those shown)")
    messages: list[ParkedMessage]


class UnpublishedEvent(BaseModel):
    event_id: str
    type: str
    collection: str
    document_id: str
    error: str | None = None
    tries: int | None = None
    set_aside_at: datetime | None = None


class ParkedReport(BaseModel):
    service: str
    consumers: list[ConsumerParking]
    unpublished: list[UnpublishedEvent] = Field(
        description="Events the outbox set aside after the broker kept refusing them; replay with consumer `outbox`"
    )


class ReplayOut(BaseModel):
    replayed: int


LIST: dict[str, Any] = {
    "summary": "Messages that could not be handled or published, waiting for staff",
    "query": ParkedQuery,
    "response": ParkedReport,
    "admin_only": True,
    "tags": ("operations",),
}
REPLAY: dict[str, Any] = {
    "summary": "Send a consumer's parked messages (or the events set aside: `outbox`) through again",
    "response": ReplayOut,
    "admin_only": True,
    "errors": (404,),
    "tags": ("operations",),
}


async def list_parked(request: web.Request, query: ParkedQuery) -> web.Response:
    runtime = request.app[RUNTIME]
    consumers = []
    for sub in runtime.bus.parkable:
        messages = await runtime.bus.dead_letters(sub.name, limit=query.limit)
        consumers.append(
            {
                "consumer": sub.name,
                "queue": sub.dead_queue_name,
                "parked": await runtime.bus.parked_count(sub.name),
                "messages": messages,
            }
        )
    unpublished = await runtime.relay.set_aside(limit=query.limit)
    for entry in unpublished:
        if entry["set_aside_at"] is not None:
            entry["set_aside_at"] = datetime.fromtimestamp(entry["set_aside_at"]).astimezone()
    return json_response({"service": runtime.service, "consumers": consumers, "unpublished": unpublished})


async def replay_parked(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    consumer = request.match_info["consumer"]
    if consumer == OUTBOX:
        return json_response({"replayed": await runtime.relay.put_back()})
    if consumer not in {s.name for s in runtime.bus.parkable}:
        raise NotFound(MESSAGES("parking.unknown_consumer", consumer=consumer))
    return json_response({"replayed": await runtime.bus.replay_dead(consumer)})
