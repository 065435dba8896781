"""Membership HTTP handlers: parse and validate, call the store, shape the answer."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.membership.members import Member, MemberIn
from services.membership.store import MemberStore
from shared.api import Api
from shared.http import current_identity, json_response, request_id

STORE = web.AppKey("member_store", MemberStore)
routes = Api("membership", tag="members")


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200, description="Members per page (at most 200)")
    after: str | None = Field(None, max_length=64, description="`next_after` of the previous page")


class MemberPage(BaseModel):
    items: list[Member]
    next_after: str | None = None


@routes.route("POST", "/members", summary="Enter a member (active at once) and welcome them", body=MemberIn,
           response=Member, status=201, scope="members:write", errors=(409,))
async def create_member(request: web.Request, body: MemberIn) -> web.Response:
    created = await request.app[STORE].create_active(
        body, by=current_identity(request).sub, correlation_id=request_id(request)
    )
    return json_response(created, status=201, headers={"Location": f"/api/v1/members/{created['id']}"})


@routes.route("GET", "/members", summary="List members, page by page", query=Page, response=MemberPage,
           scope="members:read")
async def list_members(request: web.Request, query: Page) -> web.Response:
    items = await request.app[STORE].list(query.limit, query.after)
    next_after = items[-1]["id"] if len(items) == query.limit else None
    return json_response({"items": items, "next_after": next_after})


@routes.route("GET", "/members/{member_id}", summary="One member", response=Member, scope="members:read",
           errors=(404,))
async def get_member(request: web.Request) -> web.Response:
    return json_response(await request.app[STORE].get(request.match_info["member_id"]))
