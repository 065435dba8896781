"""Membership HTTP handlers: parse and validate, call the store, shape the answer."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.membership.members import MemberIn
from services.membership.store import MemberStore
from shared.http import current_identity, json_response, parse_json, parse_query, request_id

STORE = web.AppKey("member_store", MemberStore)


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)
    after: str | None = Field(None, max_length=64)


async def create_member(request: web.Request) -> web.Response:
    member = await parse_json(request, MemberIn)
    created = await request.app[STORE].create_active(
        member, by=current_identity(request).sub, correlation_id=request_id(request)
    )
    return json_response(created, status=201, headers={"Location": f"/api/v1/members/{created['id']}"})


async def get_member(request: web.Request) -> web.Response:
    return json_response(await request.app[STORE].get(request.match_info["member_id"]))


async def list_members(request: web.Request) -> web.Response:
    page = parse_query(request, Page)
    items = await request.app[STORE].list(page.limit, page.after)
    next_after = items[-1]["id"] if len(items) == page.limit else None
    return json_response({"items": items, "next_after": next_after})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/members", create_member)
    app.router.add_get("/members", list_members)
    app.router.add_get("/members/{member_id}", get_member)
