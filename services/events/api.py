"""Events HTTP handlers: parse and validate, ask the desk or the registrar, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.events import documents
from services.events.announcements import Links
from services.events.clock import now_utc
from services.events.desk import EventDesk
from services.events.programme import EventIn, EventPatch, Kind, Status, ordered_sessions
from services.events.registrants import RegistrationIn, normalise_code, signature_ok
from services.events.registrar import Registrar
from shared.api import Api
from shared.http import NotFound, ProblemError, current_identity, json_response, request_id
from shared.settings import Settings

DESK = web.AppKey("event_desk", EventDesk)
REGISTRAR = web.AppKey("registrar", Registrar)
LINKS = web.AppKey("links", Links)
SETTINGS = web.AppKey("settings", Settings)
routes = Api("events")
PNG = {"type": "string", "format": "binary"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- answers (documented in OpenAPI) ------------------------------------------------


class OrgRef(BaseModel):
    id: str
    code: str | None = None
    name: str | None = None


class SessionOut(BaseModel):
    id: str
    title: dict | None = None
    room: str | None = None
    starts_at: datetime
    ends_at: datetime
    starts_at_local: datetime
    ends_at_local: datetime


class EventOut(BaseModel):
    id: str
    kind: Kind
    kind_label: str
    title: dict
    description: dict | None = None
    organizer: OrgRef
    co_organizers: list[OrgRef]
    venue: str | None = None
    online_url: str | None = None
    sessions: list[SessionOut]
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int
    confirmed: int
    waiting: int
    seats_free: int
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    registration_open: bool
    audience: dict
    training_hours: float | None = None
    status: Status
    cancel_reason: str | None = None


class EventPage(BaseModel):
    items: list[EventOut]
    next_offset: int | None = None


class RegistrationOut(BaseModel):
    id: str
    event_id: str
    status: Literal["confirmed", "waitlisted", "cancelled"]
    kind: Literal["member", "guest"] | None = None
    member_id: str | None = None
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str = "vi"
    ticket_code: str | None = Field(None, description="For confirmed registrations")
    position: int | None = Field(None, description="Place on the waiting list, for waitlisted registrations")
    qr_url: str | None = None
    cancel_url: str | None = None
    checkins: dict[str, str] = {}
    cancelled_at: str | None = None
    cancelled_by: str | None = None
    certificate_code: str | None = None


class RegistrationPage(BaseModel):
    items: list[RegistrationOut]
    next_offset: int | None = None


class CheckInOut(BaseModel):
    registration: RegistrationOut
    session_id: str
    checked_in_at: datetime
    checked_in_at_local: str


class SessionCount(BaseModel):
    session_id: str
    starts_at: datetime
    checked_in: int


class AttendanceOut(BaseModel):
    event_id: str
    confirmed: int
    attended: int
    sessions: list[SessionCount]
    people: list[RegistrationOut]


class IssueResult(BaseModel):
    issued: int
    already_issued: int


class CertificateCheck(BaseModel):
    valid: bool
    certificate_code: str
    full_name: str
    event_title: dict
    kind: str
    hours: float
    issued_at: datetime
    starts_at: datetime
    ends_at: datetime
    organizer: OrgRef
    pdf_url: str


# --- input ---------------------------------------------------------------------------


class EventQuery(Strict):
    status: Status | None = None
    kind: Kind | None = None
    organizer: str | None = Field(None, max_length=64, description="Organisation id or code")
    upcoming: bool = Field(False, description="Only events that have not ended")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class CancelEventIn(Strict):
    reason: str | None = Field(None, max_length=1000, description="Told to every registrant")


class CapacityIn(Strict):
    capacity: int = Field(ge=1, le=100_000)


class RegistrationQuery(Strict):
    status: Literal["confirmed", "waitlisted", "cancelled"] | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class TokenQuery(Strict):
    token: str = Field(min_length=8, max_length=128, description="The signed token from the link")


class CheckInIn(Strict):
    ticket_code: str = Field(min_length=4, max_length=64)
    session_id: str | None = Field(None, max_length=16, description="Default: the session under way now")


class ExportQuery(Strict):
    format: Literal["csv", "xlsx"] = "xlsx"


# --- events ----------------------------------------------------------------------------


@routes.route(
    "POST",
    "/events",
    summary="Create an event (as a draft)",
    body=EventIn,
    response=EventOut,
    status=201,
    scope="events:write",
    errors=(403,),
)
async def create_event(request: web.Request, body: EventIn) -> web.Response:
    created = await request.app[DESK].create(body, current_identity(request))
    return json_response(created, status=201, headers={"Location": f"/api/v1/events/{created['id']}"})


@routes.route(
    "GET",
    "/events",
    summary="Events, soonest first (managers: their organisations' only)",
    query=EventQuery,
    response=EventPage,
    scope="events:read",
)
async def list_events(request: web.Request, query: EventQuery) -> web.Response:
    items = await request.app[DESK].list(
        current_identity(request),
        status=query.status,
        kind=query.kind,
        organizer=query.organizer,
        upcoming=query.upcoming,
        limit=query.limit,
        offset=query.offset,
    )
    return json_response(
        {"items": items, "next_offset": query.offset + query.limit if len(items) == query.limit else None}
    )


@routes.route("GET", "/events/{event_id}", summary="One event", response=EventOut, scope="events:read", errors=(404,))
async def get_event(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    return json_response(await desk.view(await desk.load(request.match_info["event_id"], current_identity(request))))


@routes.route(
    "PATCH",
    "/events/{event_id}",
    summary="Change an event (registrants hear of published changes)",
    body=EventPatch,
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
async def update_event(request: web.Request, body: EventPatch) -> web.Response:
    return json_response(
        await request.app[DESK].update(
            request.match_info["event_id"], body, current_identity(request), request_id(request)
        )
    )


def _transition(action: str, summary: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_response(
            await request.app[DESK].transition(
                request.match_info["event_id"], action, current_identity(request), request_id(request)
            )
        )

    handler.__name__ = f"{action}_event"
    routes.route(
        "POST",
        f"/events/{{event_id}}/{action.replace('_', '-')}",
        summary=summary,
        response=EventOut,
        scope="events:write",
        errors=(404, 409),
    )(handler)


_transition("publish", "Publish an event: it takes registrations inside its window")
_transition("close_registration", "Stop taking registrations (cancellations still promote from the waiting list)")
_transition("complete", "Mark an event completed (trainings can then issue certificates)")


@routes.route(
    "POST",
    "/events/{event_id}/cancel",
    summary="Cancel an event; every registrant is told",
    body=CancelEventIn,
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
async def cancel_event(request: web.Request, body: CancelEventIn) -> web.Response:
    return json_response(
        await request.app[DESK].transition(
            request.match_info["event_id"], "cancel", current_identity(request), request_id(request), reason=body.reason
        )
    )


@routes.route(
    "PUT",
    "/events/{event_id}/capacity",
    summary="Change capacity: raising it promotes from the waiting list; it cannot fall below the confirmed seats",
    body=CapacityIn,
    response=EventOut,
    scope="events:write",
    errors=(404, 409),
)
async def set_capacity(request: web.Request, body: CapacityIn) -> web.Response:
    return json_response(
        await request.app[DESK].set_capacity(
            request.match_info["event_id"], body.capacity, current_identity(request), request_id(request)
        )
    )


@routes.route(
    "GET",
    "/events/{event_id}/calendar.ics",
    summary="The event as an iCalendar file",
    public=True,
    response_media={"text/calendar": {"type": "string"}},
    errors=(404,),
)
async def event_calendar(request: web.Request) -> web.Response:
    doc = await request.app[DESK].events.find_one({"_id": request.match_info["event_id"]})
    if doc is None or doc["status"] == "draft":
        raise NotFound("No event with this id")
    body = documents.calendar([doc], name=doc["title"]["vi"])
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{doc["_id"]}.ics"'},
    )


# --- registrations ---------------------------------------------------------------------


@routes.route(
    "POST",
    "/events/{event_id}/registrations",
    summary="Register a member or a guest: confirmed with a ticket, or waitlisted with a position",
    description="Send an `Idempotency-Key` header to retry safely: a repeated key returns the first "
    "answer (with `Idempotency-Replayed: true`) instead of registering again.",
    body=RegistrationIn,
    response=RegistrationOut,
    status=201,
    also_statuses=(200,),
    scope="registrations:write",
    errors=(403, 404, 409),
)
async def register(request: web.Request, body: RegistrationIn) -> web.Response:
    who = current_identity(request)
    answer, replayed = await request.app[REGISTRAR].register(
        request.match_info["event_id"],
        body,
        caller=who.sub,
        idempotency=request.headers.get("Idempotency-Key"),
        correlation_id=request_id(request),
    )
    headers = {"Location": f"/api/v1/registrations/{answer['id']}"}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return json_response(answer, status=200 if replayed else 201, headers=headers)


@routes.route(
    "GET",
    "/events/{event_id}/registrations",
    summary="Registrations of an event, in order",
    query=RegistrationQuery,
    response=RegistrationPage,
    scope="registrations:write",
    errors=(404,),
)
async def list_registrations(request: web.Request, query: RegistrationQuery) -> web.Response:
    event = await request.app[DESK].load(request.match_info["event_id"], current_identity(request))
    registrar = request.app[REGISTRAR]
    match: dict[str, Any] = {"event_id": event["_id"], **_own(request)}
    if query.status:
        match["status"] = query.status
    order = "wait_seq" if query.status == "waitlisted" else "created_epoch"
    docs = await registrar.regs.find(match).sort(order, 1).skip(query.offset).limit(query.limit).to_list()
    items = [
        registrar.view(d, position=query.offset + i + 1 if query.status == "waitlisted" else None)
        for i, d in enumerate(docs)
    ]
    return json_response(
        {"items": items, "next_offset": query.offset + query.limit if len(items) == query.limit else None}
    )


def _own(request: web.Request) -> dict[str, Any]:
    """Partner systems see the registrations they made; staff see all (managers: their events')."""
    who = current_identity(request)
    if "admin" in who.roles or "manager" in who.roles:
        return {}
    return {"registered_by": who.sub}


async def _registration_for(request: web.Request) -> dict[str, Any]:
    registrar = request.app[REGISTRAR]
    reg = await registrar.registration(request.match_info["registration_id"])
    who = current_identity(request)
    if "manager" in who.roles:
        await request.app[DESK].authorise(who, (await registrar.event(reg["event_id"]))["organizer_id"])
    if any(reg.get(k) != v for k, v in _own(request).items()):
        raise NotFound("No registration with this id", registration_id=reg["_id"])
    return reg


@routes.route(
    "GET",
    "/registrations/{registration_id}",
    summary="One registration (with its waiting-list place)",
    response=RegistrationOut,
    scope="registrations:write",
    errors=(404,),
)
async def get_registration(request: web.Request) -> web.Response:
    reg = await _registration_for(request)
    registrar = request.app[REGISTRAR]
    return json_response(registrar.view(reg, position=await registrar.position(reg)))


@routes.route(
    "DELETE",
    "/registrations/{registration_id}",
    summary="Cancel a registration (partner on the person's behalf, or staff); the seat goes to the "
    "waiting list at once",
    response=RegistrationOut,
    scope="registrations:write",
    errors=(404, 409),
)
async def cancel_registration(request: web.Request) -> web.Response:
    reg = await _registration_for(request)
    who = current_identity(request)
    by = "staff" if ("admin" in who.roles or "manager" in who.roles) else "partner"
    return json_response(await request.app[REGISTRAR].cancel(reg["_id"], by=by, correlation_id=request_id(request)))


class RegistrantView(BaseModel):
    registration: RegistrationOut
    event: EventOut


@routes.route(
    "GET",
    "/registrations/{registration_id}/cancel",
    summary="What the signed link in the confirmation would cancel (POST to the same link cancels)",
    query=TokenQuery,
    response=RegistrantView,
    public=True,
    errors=(403, 404),
)
async def show_by_link(request: web.Request, query: TokenQuery) -> web.Response:
    registration_id = request.match_info["registration_id"]
    _check_link(request, registration_id, query.token)
    registrar = request.app[REGISTRAR]
    reg = await registrar.registration(registration_id)
    desk = request.app[DESK]
    event = await desk.view(await registrar.event(reg["event_id"]))
    return json_response({"registration": registrar.view(reg, position=await registrar.position(reg)), "event": event})


def _check_link(request: web.Request, registration_id: str, token: str) -> None:
    if not signature_ok(request.app[LINKS].cancel_secret, registration_id, token):
        raise ProblemError(
            403,
            "invalid-link",
            "This link is not valid",
            "The cancellation link is damaged or belongs to another registration",
        )


@routes.route(
    "POST",
    "/registrations/{registration_id}/cancel",
    summary="Cancel through the signed link in the confirmation",
    query=TokenQuery,
    response=RegistrationOut,
    public=True,
    errors=(403, 404, 409),
)
async def cancel_by_link(request: web.Request, query: TokenQuery) -> web.Response:
    registration_id = request.match_info["registration_id"]
    _check_link(request, registration_id, query.token)
    return json_response(
        await request.app[REGISTRAR].cancel(registration_id, by="registrant", correlation_id=request_id(request))
    )


# --- at the door ---------------------------------------------------------------------------


def _qr(kind: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        code = normalise_code(request.match_info["ticket_code"])
        if await request.app[REGISTRAR].regs.find_one({"ticket_code": code}, {"_id": 1}) is None:
            raise NotFound("No ticket with this code")
        body = documents.qr_png(code) if kind == "png" else documents.qr_svg(code)
        return web.Response(
            body=body,
            content_type="image/png" if kind == "png" else "image/svg+xml",
            headers={"Cache-Control": "private, max-age=86400"},
        )

    handler.__name__ = f"ticket_qr_{kind}"
    media = {"image/png": PNG} if kind == "png" else {"image/svg+xml": {"type": "string"}}
    routes.route(
        "GET",
        f"/tickets/{{ticket_code}}/qr.{kind}",
        summary=f"The ticket's QR code ({kind.upper()}), for emails and phones",
        public=True,
        response_media=media,
        errors=(404,),
    )(handler)


_qr("png")
_qr("svg")


@routes.route(
    "POST",
    "/checkins",
    summary="Check a ticket in at the door (once per session)",
    body=CheckInIn,
    response=CheckInOut,
    scope="registrations:write",
    errors=(404, 409),
)
async def check_in(request: web.Request, body: CheckInIn) -> web.Response:
    registrar = request.app[REGISTRAR]
    who = current_identity(request)
    if "manager" in who.roles:
        reg = await registrar.regs.find_one({"ticket_code": normalise_code(body.ticket_code)}, {"event_id": 1})
        if reg is not None:
            await request.app[DESK].authorise(who, (await registrar.event(reg["event_id"]))["organizer_id"])
    return json_response(
        await registrar.check_in(body.ticket_code, body.session_id, by=who.sub, correlation_id=request_id(request))
    )


@routes.route(
    "GET",
    "/events/{event_id}/attendance",
    summary="Who came, and counts per session",
    response=AttendanceOut,
    scope="registrations:write",
    errors=(404,),
)
async def attendance(request: web.Request) -> web.Response:
    event = await request.app[DESK].load(request.match_info["event_id"], current_identity(request))
    registrar = request.app[REGISTRAR]
    sessions = []
    for sid, s in ordered_sessions(event):
        count = await registrar.regs.count_documents(
            {"event_id": event["_id"], "status": "confirmed", f"checkins.{sid}": {"$exists": True}, **_own(request)}
        )
        sessions.append({"session_id": sid, "starts_at": s["starts_at"], "checked_in": count})
    people = await registrar.regs.find(
        {"event_id": event["_id"], "status": "confirmed", "attended": 1, **_own(request)}
    ).to_list()
    return json_response(
        {
            "event_id": event["_id"],
            "confirmed": event.get("confirmed", 0),
            "attended": len(people),
            "sessions": sessions,
            "people": [registrar.view(p) for p in people],
        }
    )


def _export(what: str) -> None:
    async def handler(request: web.Request, query: ExportQuery) -> web.Response:
        event = await request.app[DESK].load(request.match_info["event_id"], current_identity(request))
        match: dict[str, Any] = {"event_id": event["_id"], **_own(request)}
        if what == "attendance":
            match.update(status="confirmed", attended=1)
        regs = await request.app[REGISTRAR].regs.find(match).sort("created_epoch", 1).to_list()
        body, media = documents.export(what, query.format, regs)
        name = f"{what}-{event['_id'][:8]}-{documents.stamp(now_utc())}.{query.format}"
        return web.Response(
            body=body, headers={"Content-Type": media, "Content-Disposition": f'attachment; filename="{name}"'}
        )

    handler.__name__ = f"export_{what}"
    routes.route(
        "GET",
        f"/events/{{event_id}}/{what}/export",
        summary=f"Export {what} as CSV or XLSX",
        query=ExportQuery,
        scope="registrations:write",
        errors=(404,),
        response_media={
            "text/csv": {"type": "string"},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": PNG,
        },
    )(handler)


_export("registrations")
_export("attendance")


# --- certificates and calendars ------------------------------------------------------------


@routes.route(
    "POST",
    "/events/{event_id}/certificates",
    summary="Issue certificates to every member who attended a completed training (once each)",
    response=IssueResult,
    scope="events:write",
    errors=(404, 409),
)
async def issue_certificates(request: web.Request) -> web.Response:
    event = await request.app[DESK].load(request.match_info["event_id"], current_identity(request), change=True)
    return json_response(await request.app[REGISTRAR].issue_certificates(event["_id"], request_id(request)))


@routes.route(
    "GET",
    "/certificates/{certificate_code}",
    summary="Check a certificate's verification code",
    response=CertificateCheck,
    public=True,
    errors=(404,),
)
async def verify_certificate(request: web.Request) -> web.Response:
    reg, event = await request.app[REGISTRAR].certificate(request.match_info["certificate_code"])
    organizer = (await request.app[DESK].orgs.names([event["organizer_id"]])).get(event["organizer_id"], {})
    return json_response(
        {
            "valid": True,
            "certificate_code": reg["certificate_code"],
            "full_name": reg["full_name"],
            "event_title": event["title"],
            "kind": event["kind"],
            "hours": reg["certificate_hours"],
            "issued_at": reg["certificate_issued_at"],
            "starts_at": event["starts_at"],
            "ends_at": event["ends_at"],
            "organizer": {"id": event["organizer_id"], "code": organizer.get("code"), "name": organizer.get("name")},
            "pdf_url": request.app[LINKS].certificate_pdf(reg["certificate_code"]),
        }
    )


@routes.route(
    "GET",
    "/certificates/{certificate_code}/pdf",
    summary="The certificate as PDF",
    public=True,
    response_media={"application/pdf": PNG},
    errors=(404,),
)
async def certificate_pdf(request: web.Request) -> web.Response:
    reg, event = await request.app[REGISTRAR].certificate(request.match_info["certificate_code"])
    settings = request.app[SETTINGS]
    organizer = (await request.app[DESK].orgs.names([event["organizer_id"]])).get(event["organizer_id"], {})
    body = documents.certificate_pdf(
        reg,
        event,
        font_path=settings.events_certificate_font,
        verify_url=request.app[LINKS].verify(reg["certificate_code"]),
        federation=settings.federation_name,
        organizer_name=organizer.get("name"),
    )
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{reg["certificate_code"]}.pdf"'},
    )


@routes.route(
    "GET",
    "/calendars/{member_id}/feed.ics",
    summary="A member's calendar of confirmed events (the link in their emails)",
    query=TokenQuery,
    public=True,
    response_media={"text/calendar": {"type": "string"}},
    errors=(403,),
)
async def member_feed(request: web.Request, query: TokenQuery) -> web.Response:
    member_id = request.match_info["member_id"]
    if not signature_ok(request.app[LINKS].calendar_secret, member_id, query.token):
        raise ProblemError(403, "invalid-link", "This link is not valid", "The calendar link is damaged")
    registrar = request.app[REGISTRAR]
    regs = await registrar.regs.find(
        {"member_id": member_id, "status": "confirmed"}, {"event_id": 1, "ticket_code": 1}
    ).to_list()
    tickets = {r["event_id"]: r["ticket_code"] for r in regs}
    events = await registrar.events.find({"_id": {"$in": list(tickets)}}).to_list() if tickets else []
    body = documents.calendar(sorted(events, key=lambda e: e["first_start"]), name="LienHiep", tickets=tickets)
    return web.Response(
        body=body, content_type="text/calendar", charset="utf-8", headers={"Cache-Control": "private, max-age=300"}
    )
