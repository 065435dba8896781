"""Notifications wiring: reading this file tells what the service does."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.notifications import api, store
from services.notifications.email import SmtpSender
from services.notifications.handlers import NotificationHandlers
from services.notifications.rendering import Renderer
from shared.http import make_app
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "notifications"


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    api.routes.setup(app)

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, app=app) as rt:
            deliveries = store.DeliveryStore(rt.db)
            app[api.DELIVERIES] = deliveries
            handlers = NotificationHandlers(settings, store.ContactStore(rt.db), deliveries, Renderer(),
                                            SmtpSender(settings))
            rt.bus.subscribe("contacts", ["member.approved", "member.updated", "member.erased"],
                             handlers.on_member_contact)
            rt.bus.subscribe("welcome_email", ["member.approved"], handlers.on_member_approved)
            await rt.start()
            yield

    app.cleanup_ctx.append(runtime)
    return app
