"""Notifications: the delivery log and a delivery's detail, templates with live preview
and versions, suppressions, parked messages with replay, campaigns with live progress."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from clients.api import ApiClient, ApiProblem, Delivery, ParkedMessage, ParkedReport
from clients.console.app import api, redirect, render, url
from clients.console.views import Form, failed, fields

DELIVERY_STATUSES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "dead",
    "skipped",
    "paused",
    "cancelled",
)
SEGMENTS = ("organization", "expertise", "event", "consented")
# The services behind the API, to say plainly whose parked messages cannot be listed yet. A service that gains
# `GET /{service}/parked-messages` is found in the API's own document and shown without a change here.
KNOWN_SERVICES = ("membership", "events", "notifications")


@dataclass
class ParkedOverview:
    reports: list[ParkedReport]
    legacy: list[ParkedMessage]  # notifications' parked events through its older endpoint
    dead_deliveries: list[Delivery]
    missing: list[str]

    @property
    def total(self) -> int:
        return sum(r.total for r in self.reports) + len(self.legacy)


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/deliveries", deliveries, name="deliveries")
    router.add_get("/deliveries/{key}", delivery, name="delivery")
    router.add_post("/deliveries/{key}/replay", replay_delivery, name="delivery_replay")
    router.add_get("/templates", templates, name="templates")
    router.add_get("/templates/{notification}/{channel}/{language}", template, name="template")
    router.add_post("/templates/{notification}/{channel}/{language}", save_template, name="template_save")
    router.add_post("/templates/{notification}/{channel}/{language}/preview", preview, name="template_preview")
    router.add_get(
        "/templates/{notification}/{channel}/{language}/preview.html", preview_html, name="template_preview_html"
    )
    router.add_post(
        "/templates/{notification}/{channel}/{language}/preview.html", preview_html, name="template_preview_html_post"
    )
    router.add_get("/suppressions", suppressions, name="suppressions")
    router.add_post("/suppressions/remove", remove_suppression, name="suppression_remove")
    router.add_get("/parked", parked, name="parked")
    router.add_post("/parked/replay", replay_parked, name="parked_replay")
    router.add_get("/campaigns", campaigns, name="campaigns")
    router.add_post("/campaigns", create_campaign, name="campaign_create")
    router.add_get("/campaigns/{campaign_id}", campaign, name="campaign")
    router.add_post("/campaigns/{campaign_id}/{action:pause|resume|cancel}", campaign_action, name="campaign_action")


# --- delivery log ---------------------------------------------------------------------


async def deliveries(request: web.Request) -> web.StreamResponse:
    chosen = {k: request.query.get(k, "").strip() for k in ("status", "member_id", "event_id", "campaign_id")}
    items = await api(request).deliveries(
        status=chosen["status"] or None,
        member_id=chosen["member_id"] or None,
        event_id=chosen["event_id"] or None,
        campaign_id=chosen["campaign_id"] or None,
        limit=200,
    )
    return render(request, "notifications/deliveries.html", items=items, chosen=chosen, statuses=DELIVERY_STATUSES)


async def delivery(request: web.Request, problem: ApiProblem | None = None) -> web.StreamResponse:
    item = await api(request).delivery(request.match_info["key"])
    return render(
        request, "notifications/delivery.html", status=problem.status if problem else 200, item=item, problem=problem
    )


async def replay_delivery(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    try:
        await api(request).replay_delivery(key)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await delivery(request, problem)
    return redirect(request, url(request, "delivery", key=key), "replayed")


# --- templates -------------------------------------------------------------------------


async def templates(request: web.Request) -> web.StreamResponse:
    items = await api(request).templates()
    return render(request, "notifications/templates.html", items=items)


def _path(request: web.Request) -> tuple[str, str, str]:
    info = request.match_info
    return info["notification"], info["channel"], info["language"]


async def template(request: web.Request, form: Form | None = None, status: int = 200) -> web.StreamResponse:
    client = api(request)
    notification, channel, language = _path(request)
    current = await client.template(notification, channel, language)
    versions = await client.template_versions(notification, channel, language)
    try:
        shown = await client.preview_template(
            notification,
            channel,
            language,
            {k: v for k, v in form.values.items() if k in ("subject", "text", "html")} if form else None,
        )
        preview_problem = None
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        shown, preview_problem = None, problem
    values = {
        "subject": current.parts.get("subject") or "",
        "text": current.parts.get("text") or "",
        "html": current.parts.get("html") or "",
        "expected_version": str(current.version),
    }
    return render(
        request,
        "notifications/template.html",
        status=status,
        current=current,
        versions=versions,
        form=form or Form(values),
        preview=shown,
        preview_problem=preview_problem,
        other_language="en" if language == "vi" else "vi",
    )


def _parts(values: dict[str, Any], channel: str) -> dict[str, str | None]:
    names = ("subject", "text", "html") if channel == "email" else ("text",)
    return {name: values.get(name) or None for name in names}


async def save_template(request: web.Request) -> web.StreamResponse:
    notification, channel, language = _path(request)
    data = await request.post()
    values = fields(data, "subject", "text", "html", "expected_version")
    expected = int(values["expected_version"]) if values["expected_version"].isdigit() else None
    try:
        await api(request).save_template(notification, channel, language, _parts(values, channel), expected)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await template(
            request,
            failed(problem, values, {"parts.subject": "subject", "parts.text": "text", "parts.html": "html"}),
            problem.status,
        )
    return redirect(
        request, url(request, "template", notification=notification, channel=channel, language=language), "saved"
    )


async def preview(request: web.Request) -> web.StreamResponse:
    """The live preview of a draft (the page's script asks for it as one types)."""
    notification, channel, language = _path(request)
    data = await request.post()
    values = fields(data, "subject", "text", "html")
    try:
        shown, problem = (
            await api(request).preview_template(notification, channel, language, _parts(values, channel)),
            None,
        )
    except ApiProblem as refused:
        if refused.status == 401:
            raise
        shown, problem = None, refused
    return render(request, "notifications/preview.html", preview=shown, preview_problem=problem)


# An email's HTML keeps its inline styles (mail programs need them), so it is shown on a page of its own, in a
# sandboxed frame: no script, no form, no link out, styles allowed only there.
EMAIL_PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; frame-ancestors 'self'"


async def preview_html(request: web.Request) -> web.StreamResponse:
    notification, channel, language = _path(request)
    parts = None
    if request.method == "POST":
        parts = _parts(fields(await request.post(), "subject", "text", "html"), channel)
    try:
        shown = await api(request).preview_template(notification, channel, language, parts)
        html = shown.html or ""
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        html = ""
    return web.Response(
        text=html,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Security-Policy": EMAIL_PREVIEW_CSP, "X-Frame-Options": "SAMEORIGIN"},
    )


# --- suppressions and parked messages -------------------------------------------------------


async def suppressions(request: web.Request) -> web.StreamResponse:
    return render(request, "notifications/suppressions.html", items=await api(request).suppressions())


async def remove_suppression(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    await api(request).remove_suppression(str(data.get("address", "")))
    return redirect(request, url(request, "suppressions"), "suppression_removed")


async def parked_overview(client: ApiClient) -> ParkedOverview:
    """Every service's parked messages the API lists; notifications' older endpoint where it is not in the
    family yet."""
    services = await client.parked_services()
    reports = list(await asyncio.gather(*(client.parked(service) for service in services)))
    dead = await client.dead_letters()
    legacy = [] if "notifications" in services else dead.events
    # Notifications' parked events are listed by its older endpoint until it joins the family.
    missing = [s for s in KNOWN_SERVICES if s not in services and s != "notifications"]
    return ParkedOverview(reports, legacy, dead.deliveries, missing)


async def parked(request: web.Request, problem: ApiProblem | None = None) -> web.StreamResponse:
    overview = await parked_overview(api(request))
    legacy: dict[str, int] = {}
    for message in overview.legacy:
        legacy[message.handler] = legacy.get(message.handler, 0) + 1
    return render(
        request,
        "notifications/parked.html",
        status=problem.status if problem else 200,
        overview=overview,
        legacy_handlers=legacy,
        problem=problem,
    )


async def replay_parked(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    service, consumer = str(data.get("service", "")), str(data.get("consumer", ""))
    client = api(request)
    try:
        if service in await client.parked_services():
            await client.replay_parked_messages(service, consumer)
        else:  # notifications' own endpoint, until it joins the family
            await client.replay_parked(consumer)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await parked(request, problem)
    return redirect(request, url(request, "parked"), "replayed")


# --- campaigns ----------------------------------------------------------------------------


def _campaign_form(values: dict[str, Any] | None = None) -> Form:
    return Form(
        values
        or {
            "name": "",
            "segment_kind": "organization",
            "segment_value": "",
            "channel_email": "on",
            "channel_sms": "",
            "language": "vi",
            "subject": "",
            "body": "",
            "sms_text": "",
        }
    )


async def campaigns(request: web.Request, form: Form | None = None, status: int = 200) -> web.StreamResponse:
    client = api(request)
    items = await client.campaigns(limit=50)
    orgs = await client.organizations()
    return render(
        request,
        "notifications/campaigns.html",
        status=status,
        items=items,
        form=form or _campaign_form(),
        segments=SEGMENTS,
        orgs=orgs,
    )


async def create_campaign(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    values = fields(
        data,
        "name",
        "segment_kind",
        "segment_value",
        "channel_email",
        "channel_sms",
        "language",
        "subject",
        "body",
        "sms_text",
    )
    channels = [c for c in ("email", "sms") if values[f"channel_{c}"]]
    body: dict[str, Any] = {
        "name": values["name"],
        "segment": {"kind": values["segment_kind"]},
        "channels": channels,
        "language": values["language"] or "vi",
    }
    if values["segment_value"] and values["segment_kind"] != "consented":
        body["segment"]["value"] = values["segment_value"]
    for name in ("subject", "body", "sms_text"):
        if values[name]:
            body[name] = values[name]
    try:
        created = await api(request).create_campaign(body)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        form = failed(
            problem,
            values,
            {
                "segment.value": "segment_value",
                "segment": "segment_value",
                "segment.kind": "segment_kind",
                "channels": "channel_email",
            },
        )
        if problem.status == 422 and not form.errors:
            form.errors["_"] = [problem.detail]
        return await campaigns(request, form, problem.status)
    return redirect(request, url(request, "campaign", campaign_id=created.id), "campaign_started")


async def campaign(request: web.Request, problem: ApiProblem | None = None) -> web.StreamResponse:
    item = await api(request).campaign(request.match_info["campaign_id"])
    template = "notifications/campaign_progress.html" if request.query.get("partial") else "notifications/campaign.html"
    return render(request, template, status=problem.status if problem else 200, item=item, problem=problem)


async def campaign_action(request: web.Request) -> web.StreamResponse:
    campaign_id = request.match_info["campaign_id"]
    action = request.match_info["action"]
    try:
        await api(request).campaign_transition(campaign_id, action)  # type: ignore[arg-type]
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await campaign(request, problem)
    return redirect(request, url(request, "campaign", campaign_id=campaign_id), f"campaign_{action}")
