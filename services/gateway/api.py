"""The gateway's own handlers, bound to the declarations in endpoints.py: each parses,
calls one use case and answers. The front door (front.py) has already matched the
route, identified and authorised the caller and validated the input."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from services.gateway import endpoints
from services.gateway.docs import DOCS_PAGE
from services.gateway.endpoints import ApiKeyIn, LoginIn, PasswordChange, PasswordReset, StaffIn, StaffPatch
from services.gateway.logging_in import Logins
from services.gateway.partner_keys import PartnerKeys
from services.gateway.staff_accounts import StaffAccounts
from services.gateway.traffic import TrafficCounter
from shared import parking
from shared.clock import epoch
from shared.contracts import asyncapi_document
from shared.http import current_identity, json_response, metrics_response

LOGINS = web.AppKey("logins", Logins)
STAFF = web.AppKey("staff_accounts", StaffAccounts)
KEYS = web.AppKey("partner_keys", PartnerKeys)
TRAFFIC = web.AppKey("traffic", TrafficCounter)
OPENAPI = web.AppKey("openapi_document", dict)
NO_STORE = {"Cache-Control": "no-store"}
DOCS_POLICY = "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _json(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return json_response(model.model_dump(mode="json"), status=status, headers=headers)


def _bearer(request: web.Request) -> str:
    return request.headers.get("Authorization", "").partition(" ")[2].strip()


# --- documents and figures ---------------------------------------------------------------


@endpoints.openapi.handles
async def openapi(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])


@endpoints.asyncapi.handles
async def asyncapi(request: web.Request) -> web.Response:
    return json_response(asyncapi_document())


@endpoints.docs.handles
async def docs(request: web.Request) -> web.Response:
    return web.Response(text=DOCS_PAGE, content_type="text/html", headers={"Content-Security-Policy": DOCS_POLICY})


@endpoints.traffic.handles
async def traffic(request: web.Request) -> web.Response:
    return _json(await request.app[TRAFFIC].snapshot(epoch()))


@endpoints.metrics.handles
async def metrics(request: web.Request) -> web.Response:
    return metrics_response()


# --- logging in ------------------------------------------------------------------------


@endpoints.login.handles
async def login(request: web.Request, body: LoginIn) -> web.Response:
    out = await request.app[LOGINS].login(body.username.strip().lower(), body.password)
    return _json(out, headers=NO_STORE)


@endpoints.refresh.handles
async def refresh(request: web.Request) -> web.Response:
    out = await request.app[LOGINS].refresh(current_identity(request), _bearer(request))
    return _json(out, headers=NO_STORE)


@endpoints.logout.handles
async def logout(request: web.Request) -> web.Response:
    await request.app[LOGINS].logout(current_identity(request), _bearer(request))
    return web.Response(status=204)


@endpoints.change_password.handles
async def change_password(request: web.Request, body: PasswordChange) -> web.Response:
    await request.app[LOGINS].change_password(current_identity(request), body.current_password, body.new_password)
    return web.Response(status=204)


@endpoints.me.handles
async def me(request: web.Request) -> web.Response:
    return _json(request.app[LOGINS].me(current_identity(request)))


# --- partner keys ------------------------------------------------------------------------


@endpoints.create_api_key.handles
async def create_api_key(request: web.Request, body: ApiKeyIn) -> web.Response:
    created = await request.app[KEYS].create(body, by=current_identity(request).sub)
    location = f"/api/v1/admin/api-keys/{created.id}"
    return _json(created, status=201, headers={"Location": location, **NO_STORE})


@endpoints.list_api_keys.handles
async def list_api_keys(request: web.Request) -> web.Response:
    return _json(await request.app[KEYS].list())


@endpoints.revoke_api_key.handles
async def revoke_api_key(request: web.Request) -> web.Response:
    return _json(await request.app[KEYS].revoke(request.match_info["key_id"]))


# --- staff accounts ------------------------------------------------------------------------


@endpoints.create_staff.handles
async def create_staff(request: web.Request, body: StaffIn) -> web.Response:
    staff = await request.app[STAFF].create(body, by=current_identity(request).sub)
    return _json(staff, status=201, headers={"Location": f"/api/v1/admin/staff/{staff.username}"})


@endpoints.list_staff.handles
async def list_staff(request: web.Request) -> web.Response:
    return _json(await request.app[STAFF].list())


@endpoints.change_staff_role.handles
async def change_staff_role(request: web.Request, body: StaffPatch) -> web.Response:
    return _json(await request.app[STAFF].change_role(request.match_info["username"], body.role, body.organization_id))


@endpoints.reset_staff_password.handles
async def reset_staff_password(request: web.Request, body: PasswordReset) -> web.Response:
    return _json(await request.app[STAFF].reset_password(request.match_info["username"], body.new_password))


@endpoints.enable_staff.handles
async def enable_staff(request: web.Request) -> web.Response:
    return _json(await request.app[STAFF].enable(request.match_info["username"]))


@endpoints.unlock_staff.handles
async def unlock_staff(request: web.Request) -> web.Response:
    return _json(await request.app[STAFF].unlock(request.match_info["username"]))


@endpoints.disable_staff.handles
async def disable_staff(request: web.Request) -> web.Response:
    return _json(await request.app[STAFF].disable(request.match_info["username"]))


# --- operations ------------------------------------------------------------------------------

endpoints.list_parked.handles(parking.list_parked)
endpoints.replay_parked.handles(parking.replay_parked)
