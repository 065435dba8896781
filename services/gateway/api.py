"""The gateway's own endpoints: logging in, partner keys, staff accounts, traffic,
and the API documents. Declared like every service's endpoints, so they are in
the same OpenAPI document and pass the same checks at the front door."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.gateway.auth import Authenticator
from services.gateway.docs import DOCS_PAGE
from services.gateway.traffic import TrafficCounter
from shared.api import Api
from shared.contracts import asyncapi_document
from shared.http import ProblemError, current_identity, json_response

AUTH = web.AppKey("authenticator", Authenticator)
TRAFFIC = web.AppKey("traffic", TrafficCounter)
OPENAPI = web.AppKey("openapi_document", dict)
SCOPES = web.AppKey("known_scopes", frozenset)

routes = Api("gateway", tag="auth")

USERNAME = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class StaffUser(BaseModel):
    username: str
    role: Literal["admin", "manager", "judge"]
    organization_id: str | None = None


class LoginOut(BaseModel):
    access_token: str = Field(description="Send as `Authorization: Bearer <token>`")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the token is valid")
    expires_at: datetime
    user: StaffUser


class ApiKeyIn(Strict):
    name: str = Field(min_length=1, max_length=100, description="Who the key is for, e.g. the smart-city portal")
    scopes: list[str] = Field(min_length=1, max_length=30, description="What the key may do, e.g. `members:read`")
    organization_id: str | None = Field(
        None, min_length=1, max_length=64, description="Limit the key to this organisation and its subtree"
    )


class ApiKey(BaseModel):
    id: str = Field(description="The key's visible prefix")
    name: str
    scopes: list[str]
    organization_id: str | None = None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The key itself: shown this once, store it safely")


class ApiKeyList(BaseModel):
    items: list[ApiKey]


class StaffIn(Strict):
    username: str = Field(pattern=USERNAME, description="Lower-case letters, digits, `.`, `_`, `-`")
    password: str = Field(min_length=12, max_length=256)
    role: Literal["admin", "manager", "judge"]
    organization_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="The association a manager manages (required for managers); a contest judge's own organisation",
    )

    @model_validator(mode="after")
    def _manager_has_an_organisation(self) -> StaffIn:
        if self.role == "manager" and not self.organization_id:
            raise ValueError("a manager needs organization_id")
        return self


class Staff(BaseModel):
    username: str
    role: Literal["admin", "manager", "judge"]
    organization_id: str | None = None
    created_at: datetime
    locked: bool
    disabled: bool
    last_login_at: datetime | None = None


class StaffList(BaseModel):
    items: list[Staff]


class Traffic(BaseModel):
    online_now: int = Field(description="Callers seen in the last five minutes")
    today: int
    this_week: int
    this_month: int
    this_year: int
    total: int


# --- documents ------------------------------------------------------------------------

JSON_DOC = {"type": "object"}


@routes.route(
    "GET",
    "/openapi.json",
    summary="This API's OpenAPI 3.1 document",
    public=True,
    tags=("meta",),
    response_media={"application/json": JSON_DOC},
)
async def openapi(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])


@routes.route(
    "GET",
    "/asyncapi.json",
    summary="The AsyncAPI document of the events the services exchange",
    public=True,
    tags=("meta",),
    response_media={"application/json": JSON_DOC},
)
async def asyncapi(request: web.Request) -> web.Response:
    return json_response(asyncapi_document())


@routes.route(
    "GET",
    "/docs",
    summary="A readable page of this API",
    public=True,
    tags=("meta",),
    response_media={"text/html": {"type": "string"}},
)
async def docs(request: web.Request) -> web.Response:
    return web.Response(
        text=DOCS_PAGE,
        content_type="text/html",
        headers={
            "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
        },
    )


@routes.route(
    "GET",
    "/stats/traffic",
    summary="Visits: online now, today, this week, month, year, in total",
    response=Traffic,
    public=True,
    tags=("stats",),
)
async def traffic(request: web.Request) -> web.Response:
    return json_response(await request.app[TRAFFIC].snapshot(datetime.now(UTC).timestamp()))


# --- staff login ----------------------------------------------------------------------


@routes.route(
    "POST",
    "/auth/login",
    summary="Log in as staff: a short-lived token",
    body=LoginIn,
    response=LoginOut,
    public=True,
    errors=(401, 423),
    description="Failed logins in a row lock the account for a while (423). "
    "Login attempts are rate-limited per client address.",
)
async def login(request: web.Request, body: LoginIn) -> web.Response:
    out = await request.app[AUTH].login(body.username.strip().lower(), body.password)
    out["expires_at"] = _time(out["expires_at"])
    return json_response(out, headers={"Cache-Control": "no-store"})


@routes.route(
    "POST", "/auth/logout", summary="End this login: the token stops working at once", status=204, errors=(400,)
)
async def logout(request: web.Request) -> web.Response:
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    if not current_identity(request).sub.startswith("staff:"):
        raise ProblemError(
            400, "not-a-login", "Not a staff login", "Only staff tokens can log out; an administrator revokes API keys"
        )
    await request.app[AUTH].logout(token)
    return web.Response(status=204)


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=12, max_length=256)


@routes.route(
    "POST",
    "/auth/password",
    summary="Change your own password; every login of yours ends",
    body=PasswordChange,
    status=204,
    errors=(400, 401),
)
async def change_password(request: web.Request, body: PasswordChange) -> web.Response:
    who = current_identity(request)
    if not who.sub.startswith("staff:"):
        raise ProblemError(400, "not-a-login", "Not a staff login", "Only staff accounts have passwords")
    await request.app[AUTH].change_password(who.sub.split(":", 1)[1], body.current_password, body.new_password)
    return web.Response(status=204)


@routes.route("GET", "/auth/me", summary="Who this staff token belongs to", response=StaffUser)
async def me(request: web.Request) -> web.Response:
    who = current_identity(request)
    if not who.sub.startswith("staff:"):
        raise ProblemError(403, "forbidden", "Forbidden", "Only staff logins have an account")
    return json_response(
        {"username": who.sub.split(":", 1)[1], "role": who.roles[0], "organization_id": who.organization_id}
    )


# --- partner keys ---------------------------------------------------------------------


@routes.route(
    "POST",
    "/admin/api-keys",
    summary="Create a partner API key (shown once)",
    body=ApiKeyIn,
    response=ApiKeyCreated,
    status=201,
    admin_only=True,
    tags=("admin",),
)
async def create_api_key(request: web.Request, body: ApiKeyIn) -> web.Response:
    known = request.app[SCOPES]
    unknown = [
        {
            "field": f"scopes.{i}",
            "in": "body",
            "message": f"unknown scope; one of {sorted(known)}",
            "code": "unknown_scope",
        }
        for i, s in enumerate(body.scopes)
        if s not in known
    ]
    if unknown:
        raise ProblemError(
            422, "validation-error", "Invalid input", f"{len(unknown)} field(s) are invalid", errors=unknown
        )
    doc = await request.app[AUTH].create_key(
        body.name.strip(), body.scopes, body.organization_id, by=current_identity(request).sub
    )
    out = {**_key(doc), "key": doc["key"]}
    return json_response(
        out, status=201, headers={"Location": f"/api/v1/admin/api-keys/{doc['_id']}", "Cache-Control": "no-store"}
    )


@routes.route(
    "GET",
    "/admin/api-keys",
    summary="Partner API keys, newest first (never the keys themselves)",
    response=ApiKeyList,
    admin_only=True,
    tags=("admin",),
)
async def list_api_keys(request: web.Request) -> web.Response:
    return json_response({"items": [_key(d) for d in await request.app[AUTH].store.list_keys()]})


@routes.route(
    "DELETE",
    "/admin/api-keys/{key_id}",
    summary="Revoke a partner API key: it stops working at once",
    response=ApiKey,
    admin_only=True,
    tags=("admin",),
    errors=(404,),
)
async def revoke_api_key(request: web.Request) -> web.Response:
    key_id = request.match_info["key_id"]
    if not re.fullmatch(r"[0-9a-f]{8}", key_id):
        raise ProblemError(404, "not-found", "Not found", "No API key with this id")
    return json_response(_key(await request.app[AUTH].revoke_key(key_id)))


# --- staff accounts -------------------------------------------------------------------


@routes.route(
    "POST",
    "/admin/staff",
    summary="Create a staff account",
    body=StaffIn,
    response=Staff,
    status=201,
    admin_only=True,
    tags=("admin",),
    errors=(409,),
)
async def create_staff(request: web.Request, body: StaffIn) -> web.Response:
    doc = await request.app[AUTH].create_staff(
        body.username, body.password, body.role, body.organization_id, by=current_identity(request).sub
    )
    return json_response(_staff(doc), status=201, headers={"Location": f"/api/v1/admin/staff/{body.username}"})


@routes.route("GET", "/admin/staff", summary="Staff accounts", response=StaffList, admin_only=True, tags=("admin",))
async def list_staff(request: web.Request) -> web.Response:
    return json_response({"items": [_staff(d) for d in await request.app[AUTH].store.list_staff()]})


@routes.route(
    "POST",
    "/admin/staff/{username}/unlock",
    summary="Unlock a staff account locked by failed logins",
    response=Staff,
    admin_only=True,
    tags=("admin",),
    errors=(404,),
)
async def unlock_staff(request: web.Request) -> web.Response:
    return json_response(_staff(await request.app[AUTH].unlock_staff(request.match_info["username"])))


@routes.route(
    "DELETE",
    "/admin/staff/{username}",
    summary="Disable a staff account and end its logins",
    response=Staff,
    admin_only=True,
    tags=("admin",),
    errors=(404,),
)
async def disable_staff(request: web.Request) -> web.Response:
    return json_response(_staff(await request.app[AUTH].disable_staff(request.match_info["username"])))


# --- shapes ---------------------------------------------------------------------------


def _time(epoch: Any) -> datetime | None:
    value = float(epoch or 0)
    return datetime.fromtimestamp(value, UTC) if value else None


def _key(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "name": doc["name"],
        "scopes": list(doc.get("scopes", [])),
        "organization_id": doc.get("organization_id"),
        "created_at": _time(doc["created"]),
        "created_by": doc["created_by"],
        "revoked_at": _time(doc.get("revoked_at")),
        "last_used_at": _time(doc.get("last_used_at")),
    }


def _staff(doc: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).timestamp()
    return {
        "username": doc["_id"],
        "role": doc["role"],
        "organization_id": doc.get("organization_id"),
        "created_at": _time(doc["created"]),
        "locked": float(doc.get("locked_until") or 0) > now,
        "disabled": bool(doc.get("disabled_at")),
        "last_login_at": _time(doc.get("last_login_at")),
    }
