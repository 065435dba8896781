"""Notifications wiring: reading this file tells what the service does.

Events from the other services keep projections (contacts, organisations,
registrations) and, through the routing table, become deliveries: one per person
and channel, rendered from staff-editable templates. A dispatcher on every replica
claims due deliveries and hands them to the mail server and the SMS provider;
campaigns are planned and sent in the background by a runner; staff read the
delivery log, edit templates and steer campaigns over the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.notifications import api, campaign_store, endpoints, store, templates
from services.notifications.campaign_runner import CampaignRunner
from services.notifications.campaigns import CampaignDesk
from services.notifications.choices import Choices
from services.notifications.delivery_log import DeliveryLog
from services.notifications.dispatcher import Dispatcher
from services.notifications.email import SmtpSender
from services.notifications.handlers import NotificationHandlers, subscribe
from services.notifications.links import Links
from services.notifications.notices import EventNotices
from services.notifications.planner import Planner
from services.notifications.projecting import Projecting
from services.notifications.projections import ContactStore, DirectoryStore
from services.notifications.receipts import Receipts
from services.notifications.rendering import Renderer
from services.notifications.sms import make_provider
from services.notifications.templating import TemplateDesk
from services.notifications.zns import ZnsClient
from services.notifications.zns_store import ZnsTokenStore
from shared.http import make_app
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "notifications"
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
INDEXES = [*store.INDEXES, *templates.INDEXES, *campaign_store.INDEXES]


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    endpoints.api.setup(app)
    links = Links(settings)

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(settings, SERVICE, indexes=INDEXES, app=app) as rt:
            renderer = Renderer()
            contacts, directory = ContactStore(rt.db), DirectoryStore(rt.db)
            await contacts.prepare()
            deliveries, suppressions = store.DeliveryStore(rt.db), store.SuppressionStore(rt.db)
            template_store = templates.TemplateStore(rt.db, renderer)
            smtp = SmtpSender(settings)
            sms = make_provider(settings, callback_url=links.receipt_url(settings.sms_provider))
            zns = ZnsClient(settings, ZnsTokenStore(rt.db))
            dispatcher = Dispatcher(settings, deliveries, suppressions, smtp, sms, zns=zns, contacts=contacts)
            planner = Planner(
                settings, contacts, deliveries, template_store, renderer, links, on_queued=dispatcher.wake
            )
            campaigns = campaign_store.CampaignStore(rt.db)
            runner = CampaignRunner(campaigns, directory, planner, dispatcher.wake, sender=dispatcher)
            app[DISPATCHER] = dispatcher
            app[api.TEMPLATES] = TemplateDesk(settings, template_store, renderer)
            app[api.DELIVERY_LOG] = DeliveryLog(deliveries, suppressions, rt.bus, dispatcher.wake)
            app[api.CHOICES] = Choices(settings, contacts, links, renderer)
            app[api.RECEIPTS] = Receipts(deliveries, links)
            app[api.CAMPAIGNS] = CampaignDesk(settings, campaigns, runner.tree, renderer, runner, dispatcher.wake)

            planner.federation = await directory.federation_name()

            def federation_named(name: str) -> None:
                planner.federation = name

            projecting = Projecting(contacts, directory, deliveries, suppressions, on_federation=federation_named)
            subscribe(rt.bus, NotificationHandlers(projecting, EventNotices(projecting, planner)))
            await rt.start()
            dispatcher.start()
            runner.start()
            try:
                yield
            finally:
                await runner.stop()
                await dispatcher.stop()
                await smtp.close()
                await sms.close()
                await zns.close()

    app.cleanup_ctx.append(runtime)
    return app
