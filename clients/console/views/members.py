"""Members: search as you type, filters, a member's page and what staff do to it,
entering a member, export."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from clients.api import ApiClient, ApiProblem, Event, Member, MemberPage, Organization, Registration
from clients.console.app import api, lang_of, redirect, render, session_of, url
from clients.console.formatting import day, parse_day
from clients.console.i18n import translate
from clients.console.views import Form, failed, fields, nothing, relay, safely

STATUSES = ("applied", "active", "suspended", "lapsed", "resigned", "rejected", "erased")
MEMBER_REGISTRATIONS_SHOWN = 20  # on the member's page; the events' own pages list the rest
TITLES = ("GS", "PGS", "TSKH", "TS", "ThS", "KS", "KTS", "BS", "DS", "CN")
TRANSITIONS = {
    "approve": ("applied",),
    "reject": ("applied",),
    "suspend": ("active",),
    "reinstate": ("suspended",),
    "resign": ("active", "suspended", "lapsed"),
}
FILTERS = ("q", "organization_id", "status", "dues", "young")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/members", search, name="members")
    router.add_get("/members/export", export, name="members_export")
    router.add_get("/members/new", new_page, name="member_new")
    router.add_post("/members/new", create, name="member_create")
    router.add_get("/members/{member_id}", page, name="member")
    router.add_get("/members/{member_id}/edit", edit_page, name="member_edit")
    router.add_post("/members/{member_id}/edit", update, name="member_update")
    router.add_post("/members/{member_id}/status", transition, name="member_transition")
    router.add_post("/members/{member_id}/renew", renew, name="member_renew")
    router.add_get("/members/{member_id}/personal-data", personal_data, name="member_personal_data")
    router.add_post("/members/{member_id}/erase", erase, name="member_erase")


def _filters(request: web.Request) -> dict[str, str]:
    return {name: request.query.get(name, "").strip() for name in FILTERS}


def _root(orgs: list[Organization], request: web.Request) -> str | None:
    own = session_of(request).organization_id
    if own:
        return own
    roots = [o for o in orgs if not o.parent_id]
    return roots[0].id if roots else None


async def search(request: web.Request) -> web.StreamResponse:
    client = api(request)
    chosen = _filters(request)
    after = request.query.get("after") or None
    orgs_task = asyncio.ensure_future(client.organizations())
    young = {"yes": True, "no": False}.get(chosen["young"])
    try:
        orgs = await orgs_task
        if chosen["dues"] == "unpaid":
            # The API lists unpaid dues per organisation only (active members, no other filter).
            root = chosen["organization_id"] or _root(orgs, request)
            result = (
                await client.unpaid_dues(root, limit=50, after=after) if root else MemberPage(items=[], next_after=None)
            )
        else:
            result = await client.members(
                q=chosen["q"] or None,
                organization_id=chosen["organization_id"] or None,
                status=chosen["status"] or None,
                young_intellectual=young,
                limit=50,
                after=after,
            )
        problem = None
    except ApiProblem as refused:
        if refused.status == 401:
            raise
        result, problem = MemberPage(items=[], next_after=None), refused
        orgs = orgs_task.result() if orgs_task.done() and not orgs_task.exception() else []
    names = {o.id: o.name for o in orgs}
    context = dict(
        page=result,
        chosen=chosen,
        orgs=orgs,
        names=names,
        statuses=STATUSES,
        problem=problem,
        next_link=url(request, "members", {**chosen, "after": result.next_after}) if result.next_after else None,
    )
    template = "members/results.html" if request.query.get("partial") else "members/search.html"
    return render(request, template, status=problem.status if problem else 200, **context)


async def export(request: web.Request) -> web.StreamResponse:
    chosen = _filters(request)
    fmt = "csv" if request.query.get("format") == "csv" else "xlsx"
    young = {"yes": True, "no": False}.get(chosen["young"])
    filters: dict[str, Any] = {
        "q": chosen["q"] or None,
        "organization_id": chosen["organization_id"] or None,
        "status": chosen["status"] or None,
        "young_intellectual": young,
    }
    async with api(request).export_members(fmt, filters) as download:
        return await relay(request, download)


MEMBER_FIELDS = (
    "full_name",
    "email",
    "phone",
    "date_of_birth",
    "gender",
    "expertise",
    "organization_id",
    "language",
    "application",
)


async def new_page(request: web.Request) -> web.StreamResponse:
    orgs = await api(request).organizations()
    values: dict[str, Any] = {name: "" for name in MEMBER_FIELDS}
    values.update(
        language="vi",
        organization_id=session_of(request).organization_id or "",
        titles=[],
        consent_email="on",
        consent_sms="on",
    )
    return render(request, "members/new.html", form=Form(values), orgs=orgs, titles=TITLES)


async def create(request: web.Request) -> web.StreamResponse:
    client = api(request)
    data = await request.post()
    values: dict[str, Any] = fields(data, *MEMBER_FIELDS, "consent_email", "consent_sms")
    values["titles"] = [str(t) for t in data.getall("titles", [])]
    body: dict[str, Any] = {
        "full_name": values["full_name"],
        "language": values["language"] or "vi",
        "titles": values["titles"],
        "consents": {"email": bool(values["consent_email"]), "sms": bool(values["consent_sms"])},
        "consent_source": "staff console",
    }
    for name in ("email", "phone", "gender", "expertise"):
        if values[name]:
            body[name] = values[name]
    if values["organization_id"]:
        body["organization_ids"] = [values["organization_id"]]
    errors: dict[str, list[str]] = {}
    if values["date_of_birth"]:
        born = parse_day(values["date_of_birth"])
        if born is None:
            errors["date_of_birth"] = [translate(lang_of(request), "form.bad_day")]
        else:
            body["date_of_birth"] = born.isoformat()
    try:
        if errors:
            raise ApiProblem(422, translate(lang_of(request), "form.invalid_title"), "")
        member = await client.create_member(body, application=bool(values["application"]))
    except ApiProblem as problem:
        form = failed(
            problem,
            values,
            {
                "organization_ids": "organization_id",
                "organization_ids.0": "organization_id",
                "consents": "consent_email",
            },
        )
        form.errors.update(errors)
        return render(
            request,
            "members/new.html",
            status=problem.status,
            form=form,
            orgs=await client.organizations(),
            titles=TITLES,
        )
    return redirect(request, url(request, "member", member_id=member.id), "saved")


PROFILE_FIELDS = ("full_name", "email", "phone", "date_of_birth", "gender", "expertise", "language")


def _profile_values(member: Member) -> dict[str, Any]:
    """The profile as the edit form shows it (dates as dd/mm/yyyy)."""
    values: dict[str, Any] = {name: getattr(member, name) or "" for name in PROFILE_FIELDS}
    values["date_of_birth"] = day(member.date_of_birth) if member.date_of_birth else ""
    values["titles"] = list(member.titles)
    return values


async def edit_page(request: web.Request) -> web.StreamResponse:
    member = await api(request).member(request.match_info["member_id"])
    return render(request, "members/edit.html", member=member, form=Form(_profile_values(member)), titles=TITLES)


async def update(request: web.Request) -> web.StreamResponse:
    """Send only what was changed: a field left as it was is not written again."""
    client = api(request)
    member = await client.member(request.match_info["member_id"])
    data = await request.post()
    values: dict[str, Any] = fields(data, *PROFILE_FIELDS)
    values["titles"] = [str(t) for t in data.getall("titles", [])]
    before = _profile_values(member)
    changes: dict[str, Any] = {
        name: values[name] or None
        for name in PROFILE_FIELDS
        if values[name] != before[name] and name != "date_of_birth"
    }
    if values["titles"] != before["titles"]:
        changes["titles"] = values["titles"]
    errors: dict[str, list[str]] = {}
    if values["date_of_birth"] != before["date_of_birth"]:
        born = parse_day(values["date_of_birth"]) if values["date_of_birth"] else None
        if values["date_of_birth"] and born is None:
            errors["date_of_birth"] = [translate(lang_of(request), "form.bad_day")]
        changes["date_of_birth"] = born.isoformat() if born else None
    try:
        if errors:
            raise ApiProblem(422, translate(lang_of(request), "form.invalid_title"), "")
        if changes:
            member = await client.update_member(member.id, changes)
    except ApiProblem as problem:
        form = failed(problem, values)
        form.errors.update(errors)
        return render(request, "members/edit.html", status=problem.status, member=member, form=form, titles=TITLES)
    return redirect(request, url(request, "member", member_id=member.id), "saved")


async def _member_page(
    request: web.Request,
    member: Member | None = None,
    status: int = 200,
    renew_form: Form | None = None,
    action_problem: ApiProblem | None = None,
    erase_form: Form | None = None,
) -> web.Response:
    client = api(request)
    member_id = request.match_info["member_id"]
    admin = session_of(request).admin
    member = member or await client.member(member_id)
    history, orgs, messages, registrations = await asyncio.gather(
        safely(client.member_history(member_id)),
        safely(client.organizations()),
        safely(client.deliveries(member_id=member_id, limit=50)) if admin else nothing(),
        safely(_registrations_with_events(client, member_id)),
    )
    names = {o.id: o.name for o in orgs} if isinstance(orgs, list) else {}
    actions = [a for a, allowed in TRANSITIONS.items() if member.status in allowed]
    return render(
        request,
        "members/page.html",
        status=status,
        member=member,
        names=names,
        history=history if isinstance(history, list) else None,
        messages=messages if isinstance(messages, list) else None,
        registrations=registrations if isinstance(registrations, list) else None,
        actions=actions,
        renew=renew_form or Form({"years": "1", "amount_vnd": "", "paid_on": "", "receipt_number": ""}),
        action_problem=action_problem,
        erase=erase_form or Form({"confirm_name": ""}),
    )


async def _registrations_with_events(client: ApiClient, member_id: str) -> list[tuple[Registration, Event | None]]:
    """The member's latest registrations, each with its event (for the title and date)."""
    page = await client.member_registrations(member_id, limit=MEMBER_REGISTRATIONS_SHOWN)
    ids = sorted({r.event_id for r in page.items})
    found = await asyncio.gather(*(safely(client.event(i)) for i in ids))
    events = {i: e for i, e in zip(ids, found, strict=True) if isinstance(e, Event)}
    return [(r, events.get(r.event_id)) for r in page.items]


async def page(request: web.Request) -> web.StreamResponse:
    return await _member_page(request)


async def transition(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    action = str(data.get("action", ""))
    member_id = request.match_info["member_id"]
    if action not in TRANSITIONS:
        raise web.HTTPNotFound()
    try:
        await api(request).member_transition(member_id, action, str(data.get("reason", "")).strip() or None)  # type: ignore[arg-type]
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await _member_page(request, status=problem.status, action_problem=problem)
    return redirect(request, url(request, "member", member_id=member_id), f"member_{action}")


async def renew(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    member_id = request.match_info["member_id"]
    values = fields(data, "years", "amount_vnd", "paid_on", "receipt_number")
    lang = lang_of(request)
    dues: dict[str, Any] | None = None
    local_errors: dict[str, list[str]] = {}
    if values["amount_vnd"]:
        digits = values["amount_vnd"].replace(".", "").replace(",", "").replace(" ", "")
        paid_on = parse_day(values["paid_on"])
        if not digits.isdigit():
            local_errors["amount_vnd"] = [translate(lang, "form.bad_number")]
        if paid_on is None:
            local_errors["paid_on"] = [translate(lang, "form.bad_day")]
        if not local_errors and paid_on is not None:
            dues = {"amount_vnd": int(digits), "paid_on": paid_on.isoformat()}
            if values["receipt_number"]:
                dues["receipt_number"] = values["receipt_number"]
    years = int(values["years"]) if values["years"].isdigit() else 0
    try:
        if local_errors:
            raise ApiProblem(422, translate(lang, "form.invalid_title"), "")
        await api(request).renew_member(member_id, years, dues)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        form = failed(problem, values)
        form.errors.update(local_errors)
        return await _member_page(request, status=problem.status, renew_form=form)
    return redirect(request, url(request, "member", member_id=member_id), "member_renewed")


async def personal_data(request: web.Request) -> web.StreamResponse:
    member_id = request.match_info["member_id"]
    data = await api(request).personal_data(member_id)
    return web.Response(
        body=json.dumps(data, ensure_ascii=False, indent=2).encode(),
        content_type="application/json",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="member-{member_id}.json"'},
    )


async def erase(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    member_id = request.match_info["member_id"]
    client = api(request)
    member = await client.member(member_id)
    typed = str(data.get("confirm_name", "")).strip()
    if typed != member.full_name:
        form = Form({"confirm_name": typed}, {"confirm_name": [translate(lang_of(request), "member.erase_mismatch")]})
        return await _member_page(request, member=member, status=422, erase_form=form)
    try:
        await client.erase_member(member_id)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await _member_page(
            request, member=member, status=problem.status, erase_form=failed(problem, {"confirm_name": typed})
        )
    return redirect(request, url(request, "member", member_id=member_id), "member_erased")
