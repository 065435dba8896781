"""Events: the list; create and edit with sessions; publish, close, complete, cancel
with a reason; capacity; registrations with their counts; exports; certificates."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from clients.api import ApiProblem, Event
from clients.console.app import api, lang_of, redirect, render, url
from clients.console.formatting import input_moment, parse_local
from clients.console.i18n import translate
from clients.console.views import Form, failed, fields, relay

KINDS = ("seminar", "training", "conference")
STATUSES = ("draft", "published", "registration_closed", "completed", "cancelled")
AUDIENCES = ("public", "members")
EVENT_FIELDS = (
    "kind",
    "title_vi",
    "title_en",
    "description_vi",
    "organizer",
    "capacity",
    "venue",
    "online_url",
    "training_hours",
    "registration_opens_at",
    "registration_closes_at",
    "audience",
)


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/events", listing, name="events")
    router.add_get("/events/new", new_page, name="event_new")
    router.add_post("/events/new", create, name="event_create")
    router.add_get("/events/{event_id}", page, name="event")
    router.add_get("/events/{event_id}/edit", edit_page, name="event_edit")
    router.add_post("/events/{event_id}/edit", update, name="event_update")
    router.add_post("/events/{event_id}/status", transition, name="event_transition")
    router.add_post("/events/{event_id}/capacity", capacity, name="event_capacity")
    router.add_post("/events/{event_id}/certificates", certificates, name="event_certificates")
    router.add_post("/registrations/{registration_id}/cancel", cancel_registration, name="registration_cancel")
    router.add_get("/events/{event_id}/export/{what:registrations|attendance}", export, name="event_export")


async def listing(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status", "")
    upcoming = request.query.get("upcoming", "") == "1"
    offset = int(request.query.get("offset", "0") or 0) if request.query.get("offset", "0").isdigit() else 0
    page = await api(request).events(
        status=status if status in STATUSES else None, upcoming=upcoming, limit=50, offset=offset
    )
    return render(
        request,
        "events/list.html",
        page=page,
        statuses=STATUSES,
        chosen_status=status,
        upcoming=upcoming,
        next_link=url(
            request, "events", {"status": status, "upcoming": "1" if upcoming else "", "offset": page.next_offset}
        )
        if page.next_offset
        else None,
    )


def _session_rows(data: Any, count: int) -> list[dict[str, str]]:
    return [
        {
            "title": str(data.get(f"sessions.{i}.title", "")).strip(),
            "starts_at": str(data.get(f"sessions.{i}.starts_at", "")).strip(),
            "ends_at": str(data.get(f"sessions.{i}.ends_at", "")).strip(),
            "room": str(data.get(f"sessions.{i}.room", "")).strip(),
        }
        for i in range(count)
    ]


def _values_of(event: Event | None) -> dict[str, Any]:
    if event is None:
        return {
            **{name: "" for name in EVENT_FIELDS},
            "kind": "seminar",
            "audience": "public",
            "sessions": [{"title": "", "starts_at": "", "ends_at": "", "room": ""}],
        }
    return {
        "kind": event.kind,
        "title_vi": event.title.get("vi", ""),
        "title_en": event.title.get("en") or "",
        "description_vi": (event.description or {}).get("vi", ""),
        "organizer": event.organizer.id,
        "capacity": str(event.capacity),
        "venue": event.venue or "",
        "online_url": event.online_url or "",
        "training_hours": "" if event.training_hours is None else f"{event.training_hours:g}",
        "registration_opens_at": input_moment(event.registration_opens_at),
        "registration_closes_at": input_moment(event.registration_closes_at),
        "audience": str(getattr(event, "audience", {}).get("kind", "public")),
        "sessions": [
            {
                "title": (s.title or {}).get("vi", ""),
                "starts_at": input_moment(s.starts_at),
                "ends_at": input_moment(s.ends_at),
                "room": s.room or "",
            }
            for s in event.sessions
        ],
    }


def _body(values: dict[str, Any], lang: str, new: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The API's body from the form, and the times that could not be read (as field errors)."""
    errors: dict[str, list[str]] = {}
    body: dict[str, Any] = {
        "title": {"vi": values["title_vi"], **({"en": values["title_en"]} if values["title_en"] else {})}
    }
    sessions = []
    for i, row in enumerate(values["sessions"]):
        if not any(row.values()):
            continue
        session: dict[str, Any] = {}
        for part in ("starts_at", "ends_at"):
            when = parse_local(row[part])
            if when is None:
                errors[f"sessions.{i}.{part}"] = [translate(lang, "form.bad_moment")]
            else:
                session[part] = when.isoformat()
        if row["title"]:
            session["title"] = {"vi": row["title"]}
        if row["room"]:
            session["room"] = row["room"]
        sessions.append(session)
    body["sessions"] = sessions
    body["description"] = {"vi": values["description_vi"]} if values["description_vi"] else None
    body["venue"] = values["venue"] or None
    body["online_url"] = values["online_url"] or None
    for part in ("registration_opens_at", "registration_closes_at"):
        when = parse_local(values[part]) if values[part] else None
        if values[part] and when is None:
            errors[part] = [translate(lang, "form.bad_moment")]
        body[part] = when.isoformat() if when else None
    body["audience"] = {"kind": values["audience"] or "public"}
    if values["training_hours"]:
        try:
            body["training_hours"] = float(values["training_hours"].replace(",", "."))
        except ValueError:
            errors["training_hours"] = [translate(lang, "form.bad_number")]
    if new:
        body["kind"] = values["kind"]
        body["organizer"] = values["organizer"]
        body["capacity"] = int(values["capacity"]) if values["capacity"].isdigit() else values["capacity"] or 0
        body = {k: v for k, v in body.items() if v is not None}
    return body, errors


async def _form(request: web.Request) -> dict[str, Any]:
    data = await request.post()
    count = int(str(data.get("session_count", "1"))) if str(data.get("session_count", "1")).isdigit() else 1
    if "add_session" in data:
        count += 1
    values: dict[str, Any] = fields(data, *EVENT_FIELDS)
    values["sessions"] = _session_rows(data, min(count, 50))
    values["add_session"] = "add_session" in data
    for i, row in enumerate(values["sessions"]):  # so errors find their inputs
        for part, text in row.items():
            values[f"sessions.{i}.{part}"] = text
    return values


async def new_page(request: web.Request) -> web.StreamResponse:
    orgs = await api(request).organizations()
    return render(
        request,
        "events/form.html",
        form=Form(_values_of(None)),
        orgs=orgs,
        kinds=KINDS,
        audiences=AUDIENCES,
        event=None,
    )


async def create(request: web.Request) -> web.StreamResponse:
    client = api(request)
    values = await _form(request)
    if values["add_session"]:
        return render(
            request,
            "events/form.html",
            form=Form(values),
            orgs=await client.organizations(),
            kinds=KINDS,
            audiences=AUDIENCES,
            event=None,
        )
    body, errors = _body(values, lang_of(request), new=True)
    try:
        if errors:
            raise ApiProblem(422, translate(lang_of(request), "form.invalid_title"), "")
        event = await client.create_event(body)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        form = failed(
            problem,
            values,
            {
                "title.vi": "title_vi",
                "title.en": "title_en",
                "description.vi": "description_vi",
                "audience.kind": "audience",
            },
        )
        form.errors.update(errors)
        return render(
            request,
            "events/form.html",
            status=problem.status,
            form=form,
            orgs=await client.organizations(),
            kinds=KINDS,
            audiences=AUDIENCES,
            event=None,
        )
    return redirect(request, url(request, "event", event_id=event.id), "event_created")


async def edit_page(request: web.Request) -> web.StreamResponse:
    client = api(request)
    event = await client.event(request.match_info["event_id"])
    return render(
        request,
        "events/form.html",
        form=Form(_values_of(event)),
        orgs=await client.organizations(),
        kinds=KINDS,
        audiences=AUDIENCES,
        event=event,
    )


async def update(request: web.Request) -> web.StreamResponse:
    client = api(request)
    event = await client.event(request.match_info["event_id"])
    values = await _form(request)
    values.update(kind=event.kind, organizer=event.organizer.id, capacity=str(event.capacity))
    if values["add_session"]:
        return render(
            request,
            "events/form.html",
            form=Form(values),
            orgs=await client.organizations(),
            kinds=KINDS,
            audiences=AUDIENCES,
            event=event,
        )
    body, errors = _body(values, lang_of(request), new=False)
    try:
        if errors:
            raise ApiProblem(422, translate(lang_of(request), "form.invalid_title"), "")
        await client.update_event(event.id, body)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        form = failed(problem, values, {"title.vi": "title_vi", "title.en": "title_en"})
        form.errors.update(errors)
        return render(
            request,
            "events/form.html",
            status=problem.status,
            form=form,
            orgs=await client.organizations(),
            kinds=KINDS,
            audiences=AUDIENCES,
            event=event,
        )
    return redirect(request, url(request, "event", event_id=event.id), "saved")


async def page(
    request: web.Request,
    status: int = 200,
    problem: ApiProblem | None = None,
    capacity_form: Form | None = None,
    notice: str | None = None,
) -> web.Response:
    client = api(request)
    event_id = request.match_info.get("event_id") or request["event_id"]
    shown = request.query.get("registrations", "confirmed")
    shown = shown if shown in ("confirmed", "waitlisted", "cancelled") else "confirmed"
    event, registrations = await asyncio.gather(
        client.event(event_id), client.registrations(event_id, status=shown, limit=200)
    )
    return render(
        request,
        "events/page.html",
        status=status,
        event=event,
        registrations=registrations,
        shown=shown,
        problem=problem,
        notice=notice,
        capacity=capacity_form or Form({"capacity": str(event.capacity)}),
    )


async def transition(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    action = str(data.get("action", ""))
    event_id = request.match_info["event_id"]
    client = api(request)
    try:
        if action == "cancel":
            reason = str(data.get("reason", "")).strip()
            if not reason:
                lang = lang_of(request)
                return await page(
                    request,
                    422,
                    ApiProblem(
                        422, translate(lang, "event.reason_needed_title"), translate(lang, "event.reason_needed_detail")
                    ),
                )
            await client.cancel_event(event_id, reason)
        elif action in ("publish", "close-registration", "complete"):
            await client.event_transition(event_id, action)  # type: ignore[arg-type]
        else:
            raise web.HTTPNotFound()
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await page(request, problem.status, problem)
    return redirect(request, url(request, "event", event_id=event_id), f"event_{action.replace('-', '_')}")


async def capacity(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    event_id = request.match_info["event_id"]
    wanted = str(data.get("capacity", "")).strip()
    try:
        if not wanted.isdigit():
            raise ApiProblem(422, translate(lang_of(request), "form.invalid_title"), "", errors=[])
        await api(request).set_capacity(event_id, int(wanted))
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        form = failed(problem, {"capacity": wanted})
        if not wanted.isdigit():
            form.errors["capacity"] = [translate(lang_of(request), "form.bad_number")]
        elif not form.errors:
            form.errors["capacity"] = [problem.detail or problem.title]
        return await page(request, problem.status, None, form)
    return redirect(request, url(request, "event", event_id=event_id), "saved")


async def certificates(request: web.Request) -> web.StreamResponse:
    event_id = request.match_info["event_id"]
    try:
        result = await api(request).issue_certificates(event_id)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await page(request, problem.status, problem)
    notice = translate(
        lang_of(request),
        "event.certificates_issued",
        issued=result.get("issued", 0),
        already=result.get("already_issued", 0),
    )
    return await page(request, notice=notice)


async def cancel_registration(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    event_id = str(data.get("event_id", ""))
    client = api(request)
    registration = await client.cancel_registration(request.match_info["registration_id"])
    target = url(request, "event", event_id=event_id or registration.event_id)
    return redirect(request, target, "registration_cancelled")


async def export(request: web.Request) -> web.StreamResponse:
    fmt = "csv" if request.query.get("format") == "csv" else "xlsx"
    what = request.match_info["what"]
    async with api(request).export_event(request.match_info["event_id"], what, fmt) as download:  # type: ignore[arg-type]
        return await relay(request, download)
