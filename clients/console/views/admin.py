"""Administration (administrators only; the API refuses anyone else): staff accounts,
partner API keys, traffic counters."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from clients.api import ApiKeyCreated, ApiProblem
from clients.console.app import api, redirect, render, url
from clients.console.views import Form, failed, fields

STAFF_ACTIONS = ("unlock", "enable", "disable")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/staff", staff, name="staff")
    router.add_post("/admin/staff", create_staff, name="staff_create")
    router.add_post("/admin/staff/{username}/role", change_role, name="staff_role")
    router.add_post("/admin/staff/{username}/password", reset_password, name="staff_password")
    router.add_post("/admin/staff/{username}/{action:unlock|enable|disable}", staff_action, name="staff_action")
    router.add_get("/admin/keys", keys, name="keys")
    router.add_post("/admin/keys", create_key, name="key_create")
    router.add_post("/admin/keys/{key_id}/revoke", revoke_key, name="key_revoke")
    router.add_get("/admin/traffic", traffic, name="traffic")


def _new_staff() -> Form:
    return Form({"username": "", "password": "", "role": "manager", "organization_id": ""})


async def staff(
    request: web.Request, form: Form | None = None, status: int = 200, row_problem: tuple[str, ApiProblem] | None = None
) -> web.StreamResponse:
    client = api(request)
    accounts = await client.staff()
    orgs = await client.organizations()
    return render(
        request,
        "admin/staff.html",
        status=status,
        accounts=accounts,
        orgs=orgs,
        names={o.id: o.name for o in orgs},
        form=form or _new_staff(),
        row_problem=row_problem,
    )


async def create_staff(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    values = fields(data, "username", "password", "role", "organization_id")
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if body.get("role") == "admin":
        body.pop("organization_id", None)
    try:
        await api(request).create_staff(body)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        values["password"] = ""
        return await staff(request, failed(problem, values), problem.status)
    return redirect(request, url(request, "staff"), "staff_created")


async def change_role(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    data = await request.post()
    try:
        await api(request).change_staff_role(
            username, str(data.get("role", "")), str(data.get("organization_id", "")) or None
        )
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await staff(request, status=problem.status, row_problem=(username, problem))
    return redirect(request, url(request, "staff"), "staff_role_changed")


async def reset_password(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    data = await request.post()
    try:
        await api(request).reset_staff_password(username, str(data.get("new_password", "")))
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await staff(request, status=problem.status, row_problem=(username, problem))
    return redirect(request, url(request, "staff"), "staff_password_set")


async def staff_action(request: web.Request) -> web.StreamResponse:
    username = request.match_info["username"]
    action = request.match_info["action"]
    try:
        await api(request).staff_action(username, action)  # type: ignore[arg-type]
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await staff(request, status=problem.status, row_problem=(username, problem))
    return redirect(request, url(request, "staff"), f"staff_{action}")


async def keys(
    request: web.Request, form: Form | None = None, status: int = 200, created: ApiKeyCreated | None = None
) -> web.StreamResponse:
    client = api(request)
    return render(
        request,
        "admin/keys.html",
        status=status,
        items=await client.api_keys(),
        scopes=await client.scopes(),
        orgs=await client.organizations(),
        form=form or Form({"name": "", "organization_id": "", "scopes": []}),
        created=created,
    )


async def create_key(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    values: dict[str, Any] = fields(data, "name", "organization_id")
    values["scopes"] = [str(s) for s in data.getall("scopes", [])]
    try:
        created = await api(request).create_api_key(values["name"], values["scopes"], values["organization_id"] or None)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        form = failed(problem, values)
        for path in list(form.errors):
            if path.startswith("scopes."):
                form.errors.setdefault("scopes", []).extend(form.errors.pop(path))
        return await keys(request, form, problem.status)
    # Shown this once, on this answer only (never stored by the console, never in a URL).
    return await keys(request, created=created, status=201)


async def revoke_key(request: web.Request) -> web.StreamResponse:
    await api(request).revoke_api_key(request.match_info["key_id"])
    return redirect(request, url(request, "keys"), "key_revoked")


async def traffic(request: web.Request) -> web.StreamResponse:
    return render(request, "admin/traffic.html", counts=await api(request).traffic())
