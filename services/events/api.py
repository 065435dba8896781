"""Events HTTP handlers: parse, call one use case, answer."""

from __future__ import annotations

from aiohttp import web

from services.events import endpoints as ep
from services.events.certificates import Certificates
from services.events.checking_in import Door
from services.events.endpoints import (
    CancelEventIn,
    CapacityIn,
    CheckInIn,
    EventIn,
    EventPatch,
    EventQuery,
    ExportQuery,
    MemberRegistrationQuery,
    RegistrationIn,
    RegistrationQuery,
    TokenQuery,
)
from services.events.exports import Exports
from services.events.lifecycle import Lifecycle
from services.events.organising import EventDesk
from services.events.registering import Registering
from services.events.registrations import Registrations
from shared import parking
from shared.http import current_identity, json_response, request_id

DESK = web.AppKey("event_desk", EventDesk)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
REGISTERING = web.AppKey("registering", Registering)
REGISTRATIONS = web.AppKey("registrations", Registrations)
DOOR = web.AppKey("door", Door)
CERTIFICATES = web.AppKey("certificates", Certificates)
EXPORTS = web.AppKey("exports", Exports)
CALENDAR = {"Content-Type": "text/calendar; charset=utf-8"}


def _event_id(request: web.Request) -> str:
    return request.match_info["event_id"]


def _registration_id(request: web.Request) -> str:
    return request.match_info["registration_id"]


# --- events -----------------------------------------------------------------------------


@ep.create_event.handles
async def create_event(request: web.Request, body: EventIn) -> web.Response:
    created = await request.app[DESK].create(current_identity(request), body)
    return json_response(created, status=201, headers={"Location": f"/api/v1/events/{created['id']}"})


@ep.list_events.handles
async def list_events(request: web.Request, query: EventQuery) -> web.Response:
    return json_response(await request.app[DESK].page(current_identity(request), query))


@ep.get_event.handles
async def get_event(request: web.Request) -> web.Response:
    return json_response(await request.app[DESK].show(current_identity(request), _event_id(request)))


@ep.update_event.handles
async def update_event(request: web.Request, body: EventPatch) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[DESK].update(who, _event_id(request), body, request_id(request)))


@ep.publish_event.handles
async def publish_event(request: web.Request) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[LIFECYCLE].publish(who, _event_id(request), request_id(request)))


@ep.close_registration_event.handles
async def close_registration_event(request: web.Request) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[LIFECYCLE].close_registration(who, _event_id(request), request_id(request)))


@ep.complete_event.handles
async def complete_event(request: web.Request) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[LIFECYCLE].complete(who, _event_id(request), request_id(request)))


@ep.cancel_event.handles
async def cancel_event(request: web.Request, body: CancelEventIn) -> web.Response:
    who, event_id = current_identity(request), _event_id(request)
    return json_response(await request.app[LIFECYCLE].cancel(who, event_id, body.reason, request_id(request)))


@ep.set_capacity.handles
async def set_capacity(request: web.Request, body: CapacityIn) -> web.Response:
    who, event_id = current_identity(request), _event_id(request)
    return json_response(await request.app[LIFECYCLE].set_capacity(who, event_id, body.capacity, request_id(request)))


@ep.event_calendar.handles
async def event_calendar(request: web.Request) -> web.Response:
    body, name = await request.app[EXPORTS].event_calendar(_event_id(request))
    return web.Response(body=body, headers={**CALENDAR, "Content-Disposition": f'attachment; filename="{name}"'})


# --- registrations ----------------------------------------------------------------------


@ep.register.handles
async def register(request: web.Request, body: RegistrationIn) -> web.Response:
    answer, replayed = await request.app[REGISTERING].register(
        current_identity(request),
        _event_id(request),
        body,
        idempotency=request.headers.get("Idempotency-Key"),
        correlation_id=request_id(request),
    )
    headers = {"Location": f"/api/v1/registrations/{answer['id']}"}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return json_response(answer, status=200 if replayed else 201, headers=headers)


@ep.list_registrations.handles
async def list_registrations(request: web.Request, query: RegistrationQuery) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[REGISTRATIONS].of_event(who, _event_id(request), query))


@ep.member_registrations.handles
async def member_registrations(request: web.Request, query: MemberRegistrationQuery) -> web.Response:
    who, member_id = current_identity(request), request.match_info["member_id"]
    return json_response(await request.app[REGISTRATIONS].of_member(who, member_id, query))


@ep.get_registration.handles
async def get_registration(request: web.Request) -> web.Response:
    return json_response(await request.app[REGISTRATIONS].one(current_identity(request), _registration_id(request)))


@ep.cancel_registration.handles
async def cancel_registration(request: web.Request) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[REGISTRATIONS].cancel(who, _registration_id(request), request_id(request)))


@ep.show_by_link.handles
async def show_by_link(request: web.Request, query: TokenQuery) -> web.Response:
    registration, event = await request.app[REGISTRATIONS].by_link(_registration_id(request), query.token)
    return json_response({"registration": registration, "event": await request.app[DESK].view(event)})


@ep.cancel_by_link.handles
async def cancel_by_link(request: web.Request, query: TokenQuery) -> web.Response:
    registrations = request.app[REGISTRATIONS]
    return json_response(
        await registrations.cancel_by_link(_registration_id(request), query.token, request_id(request))
    )


# --- at the door ------------------------------------------------------------------------


@ep.ticket_qr_png.handles
async def ticket_qr_png(request: web.Request) -> web.Response:
    body = await request.app[EXPORTS].qr(request.match_info["ticket_code"], "png")
    return web.Response(body=body, content_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@ep.ticket_qr_svg.handles
async def ticket_qr_svg(request: web.Request) -> web.Response:
    body = await request.app[EXPORTS].qr(request.match_info["ticket_code"], "svg")
    return web.Response(body=body, content_type="image/svg+xml", headers={"Cache-Control": "private, max-age=86400"})


@ep.check_in.handles
async def check_in(request: web.Request, body: CheckInIn) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[DOOR].check_in(who, body.ticket_code, body.session_id, request_id(request)))


@ep.attendance.handles
async def attendance(request: web.Request) -> web.Response:
    return json_response(await request.app[DOOR].attendance(current_identity(request), _event_id(request)))


async def _table(request: web.Request, what: str, fmt: str) -> web.Response:
    body, media, name = await request.app[EXPORTS].table(current_identity(request), _event_id(request), what, fmt)
    return web.Response(
        body=body, headers={"Content-Type": media, "Content-Disposition": f'attachment; filename="{name}"'}
    )


@ep.export_registrations.handles
async def export_registrations(request: web.Request, query: ExportQuery) -> web.Response:
    return await _table(request, "registrations", query.format)


@ep.export_attendance.handles
async def export_attendance(request: web.Request, query: ExportQuery) -> web.Response:
    return await _table(request, "attendance", query.format)


# --- certificates and calendars ---------------------------------------------------------


@ep.issue_certificates.handles
async def issue_certificates(request: web.Request) -> web.Response:
    who = current_identity(request)
    return json_response(await request.app[CERTIFICATES].issue(who, _event_id(request), request_id(request)))


@ep.verify_certificate.handles
async def verify_certificate(request: web.Request) -> web.Response:
    return json_response(await request.app[CERTIFICATES].check(request.match_info["certificate_code"]))


@ep.certificate_pdf.handles
async def certificate_pdf(request: web.Request) -> web.Response:
    body, name = await request.app[CERTIFICATES].pdf(request.match_info["certificate_code"])
    return web.Response(
        body=body, content_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@ep.member_feed.handles
async def member_feed(request: web.Request, query: TokenQuery) -> web.Response:
    body = await request.app[EXPORTS].member_feed(request.match_info["member_id"], query.token)
    return web.Response(body=body, headers={**CALENDAR, "Cache-Control": "private, max-age=300"})


ep.list_parked.handles(parking.list_parked)
ep.replay_parked.handles(parking.replay_parked)
