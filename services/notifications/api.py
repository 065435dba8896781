"""Notifications HTTP handlers: the routing table, templates, the delivery log and
dead letters, preferences and one-click unsubscribe, provider receipts, suppressions,
campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.notifications import links
from services.notifications.campaigns import CampaignRunner, CampaignStore, public_campaign
from services.notifications.catalogue import NOTIFICATIONS, ROUTES, sample_context
from services.notifications.rendering import LANGUAGES, PARTS, Renderer, TemplateSource
from services.notifications.rules import ServiceMessagesNeedAChannel, check_preferences, merged_preferences
from services.notifications.store import ContactStore, DeliveryStore, DirectoryStore, SuppressionStore
from services.notifications.templates import TemplateStore, VersionConflict
from shared.api import Api
from shared.bus import EventBus
from shared.http import Conflict, NotFound, ProblemError, current_identity, json_response
from shared.mongo import from_store
from shared.settings import Settings


@dataclass
class Services:
    settings: Settings
    deliveries: DeliveryStore
    contacts: ContactStore
    directory: DirectoryStore
    suppressions: SuppressionStore
    templates: TemplateStore
    renderer: Renderer
    campaigns: CampaignStore
    runner: CampaignRunner
    bus: EventBus
    wake_dispatcher: Any


SERVICES = web.AppKey("notification_services", Services)
routes = Api("notifications")
Channel = Literal["email", "sms"]
Language = Literal["vi", "en"]
Status = Literal[
    "queued", "sending", "sent", "delivered", "undelivered", "failed", "dead", "skipped", "paused", "cancelled"
]


def _svc(request: web.Request) -> Services:
    return request.app[SERVICES]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- routing table -----------------------------------------------------------------


class RouteOut(BaseModel):
    event_type: str
    notification: str
    channels: list[Channel]
    category: Literal["service", "announcement", "staff"]
    audience: str
    description: str


class RouteList(BaseModel):
    items: list[RouteOut]


@routes.route(
    "GET",
    "/notifications/routes",
    summary="Which notifications each event causes, on which channels",
    response=RouteList,
    admin_only=True,
)
async def list_routes(request: web.Request) -> web.Response:
    items = [
        {
            "event_type": t,
            "notification": r.notification,
            "channels": list(r.channels),
            "category": r.category,
            "audience": r.audience,
            "description": r.description,
        }
        for t, rs in ROUTES.items()
        for r in rs
    ]
    return json_response({"items": items})


# --- templates ---------------------------------------------------------------------


class TemplateParts(Strict):
    subject: str | None = Field(None, max_length=500)
    text: str | None = Field(None, max_length=20_000)
    html: str | None = Field(None, max_length=100_000)


class TemplateOut(BaseModel):
    notification: str
    channel: Channel
    language: Language
    version: int = Field(description="0: the default that ships with the service")
    parts: TemplateParts
    updated_at: datetime | None = None
    updated_by: str | None = None


class TemplateSummary(BaseModel):
    notification: str
    channel: Channel
    language: Language
    version: int
    edited: bool


class TemplateList(BaseModel):
    items: list[TemplateSummary]


class TemplateIn(Strict):
    parts: TemplateParts
    expected_version: int | None = Field(None, ge=0, description="Refuse the save (409) if the current version differs")


class TemplateVersions(BaseModel):
    items: list[TemplateOut]


class PreviewIn(Strict):
    parts: TemplateParts | None = Field(None, description="A draft to preview instead of the saved template")
    sample: dict[str, Any] = Field(default_factory=dict, description="Values overriding the sample data")


class PreviewOut(BaseModel):
    subject: str | None = None
    text: str
    html: str | None = None
    segments: int | None = None
    encoding: str | None = None


class TemplatePath(Strict):
    notification: str
    channel: Channel
    language: Language


def _template_path(request: web.Request) -> TemplatePath:
    info = request.match_info
    if info["notification"] not in NOTIFICATIONS or info["channel"] not in PARTS or info["language"] not in LANGUAGES:
        raise NotFound("No such template", notifications=NOTIFICATIONS, channels=list(PARTS), languages=list(LANGUAGES))
    return TemplatePath(notification=info["notification"], channel=info["channel"], language=info["language"])


def _problems(problems) -> ProblemError:
    errors = [
        {
            "field": f"parts.{p.part}",
            "in": "body",
            "message": p.message,
            "code": "template",
            **({"line": p.line} if p.line else {}),
            **p.extra,
        }
        for p in problems
    ]
    return ProblemError(
        422,
        "invalid-template",
        "The template cannot be used",
        f"{len(errors)} problem(s) found with sample data",
        errors=errors,
    )


@routes.route(
    "GET",
    "/notifications/templates",
    summary="Every template, with its active version",
    response=TemplateList,
    admin_only=True,
)
async def list_templates(request: web.Request) -> web.Response:
    svc = _svc(request)
    stored = await svc.templates.stored_versions()
    items = []
    for key, source in sorted(svc.renderer.defaults.items()):
        edited = stored.get(key)
        items.append(
            {
                "notification": source.notification,
                "channel": source.channel,
                "language": source.language,
                "version": int(edited["version"]) if edited else 0,
                "edited": edited is not None,
            }
        )
    return json_response({"items": items})


@routes.route(
    "GET",
    "/notifications/templates/{notification}/{channel}/{language}",
    summary="A template's active version",
    response=TemplateOut,
    admin_only=True,
    errors=(404,),
)
async def get_template(request: web.Request) -> web.Response:
    path = _template_path(request)
    source = await _svc(request).templates.active(path.notification, path.channel, path.language)
    if source is None or source.language != path.language:
        raise NotFound("No such template")
    return json_response(_template_out(source))


@routes.route(
    "PUT",
    "/notifications/templates/{notification}/{channel}/{language}",
    summary="Save a new version of a template (checked with sample data first)",
    body=TemplateIn,
    response=TemplateOut,
    admin_only=True,
    errors=(404, 409),
)
async def put_template(request: web.Request, body: TemplateIn) -> web.Response:
    svc = _svc(request)
    path = _template_path(request)
    parts = {k: v for k, v in body.parts.model_dump().items() if v is not None}
    source = TemplateSource(path.notification, path.channel, path.language, parts, version=-1)
    s = svc.settings
    announcement = (s.sms_announcement_tag, s.sms_opt_out_text) if path.notification == "announcement" else None
    problems = svc.renderer.check(
        source,
        sample_context(path.notification, path.language),
        max_segments=s.sms_max_segments,
        unicode=s.sms_unicode,
        announcement=announcement,
    )
    if problems:
        raise _problems(problems)
    try:
        saved = await svc.templates.save(
            source, expected_version=body.expected_version, author=current_identity(request).sub
        )
    except VersionConflict as exc:
        raise Conflict("The template was changed meanwhile", current_version=exc.args[0]) from None
    return json_response(_template_out(saved))


@routes.route(
    "GET",
    "/notifications/templates/{notification}/{channel}/{language}/versions",
    summary="Every saved version of a template, newest first",
    response=TemplateVersions,
    admin_only=True,
    errors=(404,),
)
async def template_versions(request: web.Request) -> web.Response:
    path = _template_path(request)
    history = await _svc(request).templates.history(f"{path.notification}:{path.channel}:{path.language}")
    return json_response({"items": history})


@routes.route(
    "POST",
    "/notifications/templates/{notification}/{channel}/{language}/preview",
    summary="Render a template (or a draft) with sample data",
    body=PreviewIn,
    response=PreviewOut,
    admin_only=True,
    errors=(404,),
)
async def preview_template(request: web.Request, body: PreviewIn) -> web.Response:
    svc = _svc(request)
    path = _template_path(request)
    if body.parts is not None:
        source = TemplateSource(
            path.notification,
            path.channel,
            path.language,
            {k: v for k, v in body.parts.model_dump().items() if v is not None},
            version=-1,
        )
    else:
        source = await svc.templates.active(path.notification, path.channel, path.language)
        assert source is not None
    sample = {**sample_context(path.notification, path.language), **body.sample}
    s = svc.settings
    announcement = (s.sms_announcement_tag, s.sms_opt_out_text) if path.notification == "announcement" else None
    problems = svc.renderer.check(source, sample, max_segments=10, unicode=s.sms_unicode, announcement=announcement)
    if problems:
        raise _problems(problems)
    if path.channel == "email":
        email = svc.renderer.email(source, path.language, sample)
        return json_response({"subject": email.subject, "text": email.text, "html": email.html})
    sms = svc.renderer.sms(source, path.language, sample, unicode=s.sms_unicode, announcement=announcement)
    return json_response({"text": sms.text, "segments": sms.size.segments, "encoding": sms.size.encoding})


def _template_out(source: TemplateSource) -> dict[str, Any]:
    return {
        "notification": source.notification,
        "channel": source.channel,
        "language": source.language,
        "version": source.version,
        "parts": source.parts,
    }


# --- delivery log and dead letters ---------------------------------------------------


class DeliveryQuery(Strict):
    member_id: str | None = Field(None, max_length=64)
    recipient_id: str | None = Field(None, max_length=64)
    event_id: str | None = Field(None, max_length=64, description="The source event id")
    campaign_id: str | None = Field(None, max_length=64)
    status: Status | None = None
    limit: int = Field(50, ge=1, le=500)


class Delivery(BaseModel):
    key: str
    channel: Channel
    template: str
    category: str | None = None
    language: str | None = None
    recipient_id: str | None = None
    member_id: str | None = None
    campaign_id: str | None = None
    source_event_id: str
    source_event_type: str
    status: Status
    reason: str | None = Field(
        None, description="Why it was skipped (no-address, no-consent, opted-out, suppressed, erased)"
    )
    held: str | None = Field(None, description="Why it waits (quiet-hours, daily-limit, no-provider)")
    attempts: int
    last_error: str | None = None
    segments: int | None = None
    encoding: str | None = None
    provider_id: str | None = None
    content: dict[str, str] | None = Field(None, description="The message as sent; absent for erased people")
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None


class DeliveryList(BaseModel):
    items: list[Delivery]


def _delivery_out(d: dict[str, Any], with_content: bool = False) -> dict[str, Any]:
    out = {k: v for k, v in d.items() if k in Delivery.model_fields}
    out["template"] = d.get("notification") or d.get("template")
    out["attempts"] = int(d.get("attempts") or 0)
    if not with_content:
        out.pop("content", None)
    return out


@routes.route(
    "GET",
    "/notifications/deliveries",
    summary="The delivery log, newest first: by recipient, event, campaign or status",
    query=DeliveryQuery,
    response=DeliveryList,
    admin_only=True,
)
async def list_deliveries(request: web.Request, query: DeliveryQuery) -> web.Response:
    items = await _svc(request).deliveries.list(**query.model_dump())
    return json_response({"items": [_delivery_out(d) for d in items]})


@routes.route(
    "GET",
    "/notifications/deliveries/{key}",
    summary="One delivery, with the message as sent",
    response=Delivery,
    admin_only=True,
    errors=(404,),
)
async def get_delivery(request: web.Request) -> web.Response:
    doc = await _svc(request).deliveries.get(request.match_info["key"])
    if doc is None:
        raise NotFound("No such delivery")
    doc = from_store(doc)
    return json_response(_delivery_out({"key": doc.pop("_id"), **doc}, with_content=True))


@routes.route(
    "POST",
    "/notifications/deliveries/{key}/replay",
    summary="Send a dead-lettered or failed delivery again",
    response=Delivery,
    admin_only=True,
    errors=(404, 409),
)
async def replay_delivery(request: web.Request) -> web.Response:
    svc = _svc(request)
    key = request.match_info["key"]
    if await svc.deliveries.get(key) is None:
        raise NotFound("No such delivery")
    if not await svc.deliveries.replay(key):
        raise Conflict("Only a dead-lettered or failed delivery (of someone not erased) can be replayed")
    svc.wake_dispatcher()
    return await get_delivery(request)


class ParkedEvent(BaseModel):
    handler: str
    message_id: str | None
    type: str | None
    attempts: int
    last_error: str | None


class DeadLetters(BaseModel):
    deliveries: list[Delivery] = Field(description="Deliveries that failed every attempt")
    events: list[ParkedEvent] = Field(description="Events a handler could not process (parked on the bus)")


@routes.route(
    "GET",
    "/notifications/dead-letters",
    summary="Dead-lettered deliveries and parked events",
    response=DeadLetters,
    admin_only=True,
)
async def dead_letters(request: web.Request) -> web.Response:
    svc = _svc(request)
    dead = await svc.deliveries.list(status="dead", limit=200)
    events = []
    for sub in svc.bus.subscriptions:
        for parked in await svc.bus.dead_letters(sub.name, limit=100):
            events.append({"handler": sub.name, **parked, "attempts": int(parked.get("attempts") or 1)})
    return json_response({"deliveries": [_delivery_out(d) for d in dead], "events": events})


class ReplayIn(Strict):
    handler: str = Field(max_length=64, description="The handler whose parked events go back to its queue")


class Replayed(BaseModel):
    replayed: int


@routes.route(
    "POST",
    "/notifications/dead-letters/replay",
    summary="Put a handler's parked events back to work",
    body=ReplayIn,
    response=Replayed,
    admin_only=True,
    errors=(404,),
)
async def replay_events(request: web.Request, body: ReplayIn) -> web.Response:
    bus = _svc(request).bus
    if body.handler not in {s.name for s in bus.subscriptions}:
        raise NotFound("No such handler", handlers=[s.name for s in bus.subscriptions])
    # Only what is parked now: a message that fails again is parked behind them, and
    # replay_dead would otherwise take it again and again.
    parked_now = len(await bus.dead_letters(body.handler, limit=1000))
    replayed = await bus.replay_dead(body.handler, limit=parked_now) if parked_now else 0
    return json_response({"replayed": replayed})


# --- preferences and unsubscribe -------------------------------------------------------


class ChannelChoice(Strict):
    email: bool | None = None
    sms: bool | None = None


class Preferences(Strict):
    service: ChannelChoice = ChannelChoice()
    announcement: ChannelChoice = ChannelChoice()


class PreferencesOut(BaseModel):
    member_id: str
    service: dict[Channel, bool]
    announcement: dict[Channel, bool]


@routes.route(
    "GET",
    "/notifications/preferences/{member_id}",
    summary="A member's choices per channel and category",
    response=PreferencesOut,
    admin_only=True,
)
async def get_preferences(request: web.Request) -> web.Response:
    member_id = request.match_info["member_id"]
    prefs = merged_preferences(await _svc(request).contacts.get_preferences(member_id))
    return json_response({"member_id": member_id, **prefs})


@routes.route(
    "PUT",
    "/notifications/preferences/{member_id}",
    summary="Change a member's choices (service messages may move channel but not be turned off)",
    body=Preferences,
    response=PreferencesOut,
    admin_only=True,
    errors=(422,),
)
async def put_preferences(request: web.Request, body: Preferences) -> web.Response:
    svc = _svc(request)
    member_id = request.match_info["member_id"]
    current = merged_preferences(await svc.contacts.get_preferences(member_id))
    for category in ("service", "announcement"):
        for channel, value in getattr(body, category).model_dump().items():
            if value is not None:
                current[category][channel] = value
    try:
        check_preferences(current)
    except ServiceMessagesNeedAChannel as exc:
        raise ProblemError(
            422,
            "validation-error",
            "Invalid input",
            str(exc),
            errors=[{"field": "service", "in": "body", "message": str(exc), "code": "service_needs_a_channel"}],
        ) from None
    await svc.contacts.set_preferences(member_id, current)
    return json_response({"member_id": member_id, **current})


class TokenQuery(Strict):
    token: str = Field(min_length=10, max_length=600)


class Unsubscribed(BaseModel):
    channel: Channel
    category: str
    message: str


@routes.route(
    "GET",
    "/notifications/unsubscribe",
    summary="The page an unsubscribe link opens: it asks to "
    "confirm (a GET changes nothing, since mail scanners follow links)",
    query=TokenQuery,
    public=True,
    response_media={"text/html": {"type": "string"}},
)
async def unsubscribe_page(request: web.Request, query: TokenQuery) -> web.Response:
    svc = _svc(request)
    try:
        payload = links.verify(query.token, svc.settings.derived_secret("unsubscribe"))
        channel, valid = str(payload.get("c")), payload.get("c") in ("email", "sms")
    except links.BadToken:
        channel, valid = "", False
    html = svc.renderer.page(
        "unsubscribe.html",
        {
            "valid": valid,
            "channel": channel,
            "federation": svc.settings.federation_name,
            "federation_en": svc.settings.federation_name_en,
        },
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=200 if valid else 400)


@routes.route(
    "POST",
    "/notifications/unsubscribe",
    summary="One-click unsubscribe from announcements (RFC 8058; the link in every announcement)",
    query=TokenQuery,
    response=Unsubscribed,
    public=True,
    errors=(400,),
)
async def unsubscribe(request: web.Request, query: TokenQuery) -> web.Response:
    svc = _svc(request)
    try:
        payload = links.verify(query.token, svc.settings.derived_secret("unsubscribe"))
        recipient, channel = str(payload["r"]), str(payload["c"])
        if channel not in ("email", "sms"):
            raise links.BadToken("unknown channel")
    except (links.BadToken, KeyError):
        raise ProblemError(
            400,
            "invalid-token",
            "This unsubscribe link is not valid",
            "The link may have been cut or changed; use the link from the email as it is",
        ) from None
    current = merged_preferences(await svc.contacts.get_preferences(recipient))
    current["announcement"][channel] = False
    await svc.contacts.set_preferences(recipient, current)
    await request.read()  # RFC 8058 bodies ("List-Unsubscribe=One-Click") carry nothing more
    return json_response(
        {
            "channel": channel,
            "category": "announcement",
            "message": "Anh/Chị sẽ không nhận thông báo qua kênh này nữa. "
            "You will no longer receive announcements on this channel.",
        }
    )


# --- delivery receipts -------------------------------------------------------------------


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # providers add fields of their own
    request_id: str | None = Field(None, max_length=300)
    status: Literal["delivered", "failed"] | None = None
    error: str | None = Field(None, max_length=500)
    RequestId: str | None = Field(None, max_length=300, description="eSMS.vn callback shape")
    SendStatus: int | str | None = Field(None, description="eSMS.vn: 5 delivered, other final codes failed")

    @model_validator(mode="after")
    def one_shape(self) -> ReceiptIn:
        if not (self.request_id and self.status) and not (self.RequestId and self.SendStatus is not None):
            raise ValueError("send request_id and status (or eSMS's RequestId and SendStatus)")
        return self


class ReceiptOut(BaseModel):
    delivery_key: str
    status: str


def receipt_token(settings: Settings, provider: str) -> str:
    return links.sign({"p": provider}, settings.derived_secret("provider-receipts"))


@routes.route(
    "POST",
    "/notifications/receipts/{provider}",
    summary="Delivery receipt callback of an SMS provider (the URL carries a signed token)",
    query=TokenQuery,
    body=ReceiptIn,
    response=ReceiptOut,
    public=True,
    errors=(400, 404),
)
async def delivery_receipt(request: web.Request, query: TokenQuery, body: ReceiptIn) -> web.Response:
    svc = _svc(request)
    provider = request.match_info["provider"]
    try:
        if links.verify(query.token, svc.settings.derived_secret("provider-receipts")).get("p") != provider:
            raise links.BadToken("wrong provider")
    except links.BadToken:
        raise ProblemError(400, "invalid-token", "Receipt token not valid") from None
    key = body.request_id or body.RequestId or ""
    status = body.status or ("delivered" if str(body.SendStatus) == "5" else "failed")
    if not await svc.deliveries.mark_receipt(key, status, body.error):
        raise NotFound("No sent delivery with this request id")
    return json_response({"delivery_key": key, "status": status})


# --- suppressions ------------------------------------------------------------------------


class Suppression(BaseModel):
    address: str
    channel: Channel
    reason: str
    at: datetime


class SuppressionList(BaseModel):
    items: list[Suppression]


class LimitQuery(Strict):
    limit: int = Field(100, ge=1, le=1000)


@routes.route(
    "GET",
    "/notifications/suppressions",
    summary="Addresses that bounced for good",
    query=LimitQuery,
    response=SuppressionList,
    admin_only=True,
)
async def list_suppressions(request: web.Request, query: LimitQuery) -> web.Response:
    return json_response({"items": await _svc(request).suppressions.list(query.limit)})


@routes.route(
    "DELETE",
    "/notifications/suppressions/{address}",
    summary="Allow sending to an address again",
    status=204,
    admin_only=True,
    errors=(404,),
)
async def delete_suppression(request: web.Request) -> web.Response:
    if not await _svc(request).suppressions.remove(request.match_info["address"]):
        raise NotFound("This address is not suppressed")
    return web.Response(status=204)


# --- campaigns ----------------------------------------------------------------------------


class Segment(Strict):
    kind: Literal["organization", "expertise", "event", "consented"] = Field(
        description="organization: members of it and its subtree; expertise; event: its registrants; "
        "consented: everyone who consented to the campaign's channels"
    )
    value: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The organisation id, expertise or event id (not for `consented`)",
    )

    @model_validator(mode="after")
    def value_needed(self) -> Segment:
        if self.kind != "consented" and not self.value:
            raise ValueError(f"a {self.kind} segment needs a value")
        return self


class CampaignIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    segment: Segment
    channels: list[Channel] = Field(min_length=1, max_length=2)
    language: Language = "vi"
    subject: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=20_000)
    sms_text: str | None = Field(None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def content_for_each_channel(self) -> CampaignIn:
        if "email" in self.channels and not (self.subject and self.body):
            raise ValueError("an email campaign needs a subject and a body")
        if "sms" in self.channels and not self.sms_text:
            raise ValueError("an SMS campaign needs sms_text")
        return self


class CampaignOut(BaseModel):
    id: str
    name: str
    segment: Segment
    channels: list[Channel]
    language: Language
    subject: str | None
    body: str | None
    sms_text: str | None
    status: Literal["running", "paused", "cancelled"]
    planning_done: bool
    progress: dict[str, int]
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class CampaignList(BaseModel):
    items: list[CampaignOut]


async def _reach(request: web.Request) -> set[str] | None:
    """Organisations the caller may address: None for the federation's office (all);
    for an association manager, their organisation and its subtree."""
    who = current_identity(request)
    if "admin" in who.roles:
        return None
    if not who.organization_id:
        return set()
    return set(await _svc(request).directory.subtree(who.organization_id))


def _within(doc: dict[str, Any], reach: set[str] | None) -> bool:
    segment = doc["segment"]
    return reach is None or (segment["kind"] == "organization" and segment.get("value") in reach)


async def _visible_campaign(request: web.Request) -> dict[str, Any]:
    doc = await _svc(request).campaigns.get(request.match_info["campaign_id"])
    if doc is None or not _within(doc, await _reach(request)):
        raise NotFound("No such campaign")
    return doc


@routes.route(
    "POST",
    "/notifications/campaigns",
    summary="Start an announcement to a segment (runs in the background)",
    description="Association managers may address their own organisation and its subtree only.",
    body=CampaignIn,
    response=CampaignOut,
    status=201,
    errors=(403, 422),
)
async def create_campaign(request: web.Request, body: CampaignIn) -> web.Response:
    svc = _svc(request)
    if not _within({"segment": body.segment.model_dump()}, await _reach(request)):
        raise ProblemError(
            403,
            "forbidden",
            "Forbidden",
            "Managers may send announcements to their own organisation and its subtree only",
            errors=[
                {
                    "field": "segment",
                    "in": "body",
                    "code": "outside_your_organization",
                    "message": "choose your organisation or one below it",
                }
            ],
        )
    s = svc.settings
    if body.sms_text:
        sms = svc.renderer.sms(
            "announcement",
            body.language,
            {"sms_text": body.sms_text},
            unicode=s.sms_unicode,
            announcement=(s.sms_announcement_tag, s.sms_opt_out_text),
        )
        if sms.size.segments > s.sms_max_segments:
            raise ProblemError(
                422,
                "validation-error",
                "Invalid input",
                "The SMS is too long",
                errors=[
                    {
                        "field": "sms_text",
                        "in": "body",
                        "code": "too_many_segments",
                        "message": f"with the tag and opt-out text it takes {sms.size.segments} segments; "
                        f"the limit is {s.sms_max_segments}",
                        "segments": sms.size.segments,
                    }
                ],
            )
    doc = await svc.campaigns.create(body.model_dump(mode="json"), current_identity(request).sub)
    svc.runner.wake()
    return json_response(public_campaign(doc, await svc.campaigns.progress(doc["_id"])), status=201)


@routes.route(
    "GET", "/notifications/campaigns", summary="Campaigns, newest first", query=LimitQuery, response=CampaignList
)
async def list_campaigns(request: web.Request, query: LimitQuery) -> web.Response:
    svc = _svc(request)
    reach = await _reach(request)
    docs = [d for d in await svc.campaigns.list(min(query.limit, 100) if reach is None else 500) if _within(d, reach)]
    docs = docs[: query.limit]
    return json_response({"items": [public_campaign(d, await svc.campaigns.progress(d["_id"])) for d in docs]})


@routes.route(
    "GET",
    "/notifications/campaigns/{campaign_id}",
    summary="A campaign and its progress",
    response=CampaignOut,
    errors=(404,),
)
async def get_campaign(request: web.Request) -> web.Response:
    svc = _svc(request)
    doc = await _visible_campaign(request)
    return json_response(public_campaign(doc, await svc.campaigns.progress(doc["_id"])))


def _transition(name: str, status: str, allowed_from: tuple[str, ...], summary: str, done: str):
    @routes.route(
        "POST",
        f"/notifications/campaigns/{{campaign_id}}/{name}",
        summary=summary,
        response=CampaignOut,
        errors=(404, 409),
    )
    async def transition(request: web.Request) -> web.Response:
        svc = _svc(request)
        current = await _visible_campaign(request)
        cid = current["_id"]
        doc = await svc.campaigns.set_status(cid, status, allowed_from)
        if doc is None:
            raise Conflict(f"A {current['status']} campaign cannot be {done}", campaign_status=current["status"])
        svc.runner.wake()
        svc.wake_dispatcher()
        return json_response(public_campaign(doc, await svc.campaigns.progress(cid)))

    transition.__name__ = f"{name}_campaign"
    return transition


pause_campaign = _transition(
    "pause", "paused", ("running",), "Pause a campaign: nothing more is sent until resumed", "paused"
)
resume_campaign = _transition("resume", "running", ("paused",), "Resume a paused campaign where it stopped", "resumed")
cancel_campaign = _transition(
    "cancel", "cancelled", ("running", "paused"), "Cancel a campaign: what is unsent is dropped", "cancelled"
)
