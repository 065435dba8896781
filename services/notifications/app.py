"""Notifications wiring: reading this file tells what the service does."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.notifications import api, store, templates
from services.notifications import campaigns as campaigns_mod
from services.notifications.campaigns import CampaignRunner, CampaignStore
from services.notifications.catalogue import PROJECTION_EVENTS, ROUTES
from services.notifications.dispatcher import Dispatcher
from services.notifications.email import SmtpSender
from services.notifications.handlers import NotificationHandlers
from services.notifications.planner import Planner
from services.notifications.rendering import Renderer
from services.notifications.sms import make_provider
from shared.http import make_app
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "notifications"
DIRECTORY_EVENTS = (
    "organization.created",
    "organization.updated",
    "registration.confirmed",
    "registration.waitlisted",
    "registration.promoted",
    "registration.cancelled",
)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    api.routes.setup(app)

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(
            settings, SERVICE, indexes=[*store.INDEXES, *templates.INDEXES, *campaigns_mod.INDEXES], app=app
        ) as rt:
            renderer = Renderer()
            contacts, directory = store.ContactStore(rt.db), store.DirectoryStore(rt.db)
            deliveries, suppressions = store.DeliveryStore(rt.db), store.SuppressionStore(rt.db)
            template_store = templates.TemplateStore(rt.db, renderer)
            smtp = SmtpSender(settings)
            receipts = (
                f"{settings.public_base_url.rstrip('/')}/api/v1/notifications/receipts/{settings.sms_provider}"
                f"?token={api.receipt_token(settings, settings.sms_provider)}"
            )
            sms = make_provider(settings, callback_url=receipts)
            dispatcher = Dispatcher(settings, deliveries, suppressions, smtp, sms)
            planner = Planner(settings, contacts, deliveries, template_store, renderer)
            campaigns = CampaignStore(rt.db)
            runner = CampaignRunner(campaigns, directory, planner, dispatcher.wake, sender=dispatcher)
            handlers = NotificationHandlers(contacts, directory, deliveries, planner, dispatcher)
            app[DISPATCHER] = dispatcher
            app[api.SERVICES] = api.Services(
                settings,
                deliveries,
                contacts,
                directory,
                suppressions,
                template_store,
                renderer,
                campaigns,
                runner,
                rt.bus,
                dispatcher.wake,
            )

            rt.bus.subscribe("contacts", list(PROJECTION_EVENTS), handlers.on_member_contact)
            rt.bus.subscribe("directory", DIRECTORY_EVENTS, handlers.on_directory)
            rt.bus.subscribe("deliveries", sorted(ROUTES), handlers.on_notify)
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

    app.cleanup_ctx.append(runtime)
    return app
