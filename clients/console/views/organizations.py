"""Organisations: the tree; create, edit, move; import (administrators)."""

from __future__ import annotations

from aiohttp import web

from clients.api import ApiProblem
from clients.console.app import api, redirect, render, url
from clients.console.views import Form, failed, fields
from clients.console.views.imports import no_file, upload_from

KINDS = ("federation", "association", "centre", "branch", "enterprise")
STATUSES = ("active", "inactive", "dissolved")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/organizations", tree, name="organizations")
    router.add_get("/organizations/new", new_page, name="organization_new")
    router.add_post("/organizations/new", create, name="organization_create")
    router.add_post("/organizations/import", import_file, name="organization_import")
    router.add_get("/organizations/{organization_id}", edit_page, name="organization")
    router.add_post("/organizations/{organization_id}", update, name="organization_update")


async def tree(request: web.Request) -> web.StreamResponse:
    orgs = await api(request).organizations(with_counts=True)
    return render(request, "organizations/tree.html", orgs=orgs, kinds=KINDS, report=None, import_problem=None)


async def new_page(request: web.Request) -> web.StreamResponse:
    orgs = await api(request).organizations()
    values = {
        "code": "",
        "name": "",
        "kind": "association",
        "parent_id": request.query.get("parent", ""),
        "contact_email": "",
        "contact_phone": "",
        "address": "",
    }
    return render(
        request, "organizations/form.html", form=Form(values), orgs=orgs, kinds=KINDS, statuses=STATUSES, org=None
    )


async def create(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    values = fields(data, "code", "name", "kind", "parent_id", "contact_email", "contact_phone", "address")
    client = api(request)
    try:
        created = await client.create_organization({k: v for k, v in values.items() if v})
    except ApiProblem as problem:
        return render(
            request,
            "organizations/form.html",
            status=problem.status,
            form=failed(problem, values),
            orgs=await client.organizations(),
            kinds=KINDS,
            statuses=STATUSES,
            org=None,
        )
    return redirect(request, url(request, "organizations") + f"#org-{created.id}", "saved")


async def edit_page(request: web.Request) -> web.StreamResponse:
    client = api(request)
    org = await client.organization(request.match_info["organization_id"])
    values = {
        "name": org.name,
        "parent_id": org.parent_id or "",
        "contact_email": org.contact_email or "",
        "contact_phone": org.contact_phone or "",
        "address": org.address or "",
        "status": org.status,
    }
    return render(
        request,
        "organizations/form.html",
        form=Form(values),
        orgs=await client.organizations(),
        kinds=KINDS,
        statuses=STATUSES,
        org=org,
    )


async def update(request: web.Request) -> web.StreamResponse:
    client = api(request)
    org_id = request.match_info["organization_id"]
    data = await request.post()
    values = fields(data, "name", "parent_id", "contact_email", "contact_phone", "address", "status")
    org = await client.organization(org_id)
    changes = {k: (v or None) for k, v in values.items() if (v or None) != (getattr(org, k) or None)}
    try:
        if changes:
            await client.update_organization(org_id, changes)
    except ApiProblem as problem:
        return render(
            request,
            "organizations/form.html",
            status=problem.status,
            form=failed(problem, values),
            orgs=await client.organizations(),
            kinds=KINDS,
            statuses=STATUSES,
            org=org,
        )
    return redirect(request, url(request, "organizations") + f"#org-{org_id}", "saved")


async def import_file(request: web.Request) -> web.StreamResponse:
    client = api(request)
    upload = await upload_from(request)
    report, problem = None, None
    if upload is None:
        problem = no_file(request)
    else:
        try:
            report = await client.import_organizations(upload)
        except ApiProblem as refused:
            problem = refused
    status = problem.status if problem else 200
    return render(
        request,
        "organizations/tree.html",
        status=status,
        orgs=await client.organizations(),
        kinds=KINDS,
        report=report,
        import_problem=problem,
    )
