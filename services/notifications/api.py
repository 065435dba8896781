"""Notifications HTTP handlers: parse, call one use case, answer."""

from __future__ import annotations

from aiohttp import web

from services.notifications import endpoints as ep
from services.notifications.campaigns import CampaignDesk
from services.notifications.choices import Choices
from services.notifications.delivery_log import DeliveryLog
from services.notifications.receipts import Receipts
from services.notifications.templating import TemplateDesk, route_table, template_path
from shared import parking
from shared.http import current_identity, json_response

TEMPLATES = web.AppKey("template_desk", TemplateDesk)
DELIVERY_LOG = web.AppKey("delivery_log", DeliveryLog)
CHOICES = web.AppKey("choices", Choices)
RECEIPTS = web.AppKey("receipts", Receipts)
CAMPAIGNS = web.AppKey("campaign_desk", CampaignDesk)


def _template(request: web.Request) -> tuple[str, str, str]:
    info = request.match_info
    return template_path(info["notification"], info["channel"], info["language"])


# --- routing table and templates ------------------------------------------------------


@ep.list_routes.handles
async def list_routes(request: web.Request) -> web.Response:
    return json_response(route_table())


@ep.list_templates.handles
async def list_templates(request: web.Request) -> web.Response:
    return json_response(await request.app[TEMPLATES].summaries())


@ep.get_template.handles
async def get_template(request: web.Request) -> web.Response:
    return json_response(await request.app[TEMPLATES].active(_template(request)))


@ep.put_template.handles
async def put_template(request: web.Request, body: ep.TemplateIn) -> web.Response:
    author = current_identity(request).sub
    return json_response(await request.app[TEMPLATES].save(_template(request), body, author))


@ep.template_versions.handles
async def template_versions(request: web.Request) -> web.Response:
    return json_response(await request.app[TEMPLATES].versions(_template(request)))


@ep.preview_template.handles
async def preview_template(request: web.Request, body: ep.PreviewIn) -> web.Response:
    return json_response(await request.app[TEMPLATES].preview(_template(request), body))


# --- delivery log, dead letters, suppressions -------------------------------------------


@ep.list_deliveries.handles
async def list_deliveries(request: web.Request, query: ep.DeliveryQuery) -> web.Response:
    return json_response(await request.app[DELIVERY_LOG].page(query))


@ep.get_delivery.handles
async def get_delivery(request: web.Request) -> web.Response:
    return json_response(await request.app[DELIVERY_LOG].show(request.match_info["key"]))


@ep.replay_delivery.handles
async def replay_delivery(request: web.Request) -> web.Response:
    return json_response(await request.app[DELIVERY_LOG].replay(request.match_info["key"]))


@ep.dead_letters.handles
async def dead_letters(request: web.Request) -> web.Response:
    return json_response(await request.app[DELIVERY_LOG].dead_letters())


@ep.replay_events.handles
async def replay_events(request: web.Request, body: ep.ReplayIn) -> web.Response:
    return json_response(await request.app[DELIVERY_LOG].replay_events(body.handler))


@ep.list_suppressions.handles
async def list_suppressions(request: web.Request, query: ep.LimitQuery) -> web.Response:
    return json_response(await request.app[DELIVERY_LOG].suppressed(query.limit))


@ep.delete_suppression.handles
async def delete_suppression(request: web.Request) -> web.Response:
    await request.app[DELIVERY_LOG].unsuppress(request.match_info["address"])
    return web.Response(status=204)


ep.list_parked.handles(parking.list_parked)
ep.replay_parked.handles(parking.replay_parked)


# --- preferences and unsubscribe ---------------------------------------------------------


@ep.get_preferences.handles
async def get_preferences(request: web.Request) -> web.Response:
    return json_response(await request.app[CHOICES].show(request.match_info["member_id"]))


@ep.put_preferences.handles
async def put_preferences(request: web.Request, body: ep.Preferences) -> web.Response:
    return json_response(await request.app[CHOICES].change(request.match_info["member_id"], body))


@ep.unsubscribe_page.handles
async def unsubscribe_page(request: web.Request, query: ep.TokenQuery) -> web.Response:
    page, valid = request.app[CHOICES].confirmation_page(query.token)
    return web.Response(text=page, content_type="text/html", charset="utf-8", status=200 if valid else 400)


@ep.unsubscribe.handles
async def unsubscribe(request: web.Request, query: ep.TokenQuery) -> web.Response:
    done = await request.app[CHOICES].unsubscribe(query.token)
    await request.read()  # RFC 8058 bodies ("List-Unsubscribe=One-Click") carry nothing more
    return json_response(done)


# --- delivery receipts ---------------------------------------------------------------------


@ep.delivery_receipt.handles
async def delivery_receipt(request: web.Request, query: ep.TokenQuery, body: ep.ReceiptIn) -> web.Response:
    provider = request.match_info["provider"]
    return json_response(await request.app[RECEIPTS].record(provider, query.token, body))


@ep.zns_receipt.handles
async def zns_receipt(request: web.Request, query: ep.TokenQuery, body: ep.ZnsReceiptIn) -> web.Response:
    return json_response(await request.app[RECEIPTS].record_zns(query.token, body))


# --- campaigns -----------------------------------------------------------------------------


def _campaign_id(request: web.Request) -> str:
    return request.match_info["campaign_id"]


@ep.create_campaign.handles
async def create_campaign(request: web.Request, body: ep.CampaignIn) -> web.Response:
    return json_response(await request.app[CAMPAIGNS].start(current_identity(request), body), status=201)


@ep.list_campaigns.handles
async def list_campaigns(request: web.Request, query: ep.LimitQuery) -> web.Response:
    return json_response(await request.app[CAMPAIGNS].page(current_identity(request), query.limit))


@ep.get_campaign.handles
async def get_campaign(request: web.Request) -> web.Response:
    return json_response(await request.app[CAMPAIGNS].show(current_identity(request), _campaign_id(request)))


@ep.pause_campaign.handles
async def pause_campaign(request: web.Request) -> web.Response:
    return json_response(await request.app[CAMPAIGNS].steer(current_identity(request), _campaign_id(request), "pause"))


@ep.resume_campaign.handles
async def resume_campaign(request: web.Request) -> web.Response:
    return json_response(await request.app[CAMPAIGNS].steer(current_identity(request), _campaign_id(request), "resume"))


@ep.cancel_campaign.handles
async def cancel_campaign(request: web.Request) -> web.Response:
    return json_response(await request.app[CAMPAIGNS].steer(current_identity(request), _campaign_id(request), "cancel"))
