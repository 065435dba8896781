"""Webhooks wiring: reading this file tells what the service does.

Partner keys (and administrators for them) register endpoints over the API; every
event partners may hear comes off the bus, is judged per endpoint by its key's scopes
and reach and stored as deliveries in its public form; a dispatcher on every replica
claims due deliveries, signs them (Standard Webhooks) and posts them to public
addresses only, retrying for about three days; an endpoint that answers 410 or keeps
failing is disabled and its contact told (an event for notifications); old log
entries are forgotten.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from services.webhooks import api, endpoints, store
from services.webhooks.addresses import AddressPolicy
from services.webhooks.delivery_log import DeliveryLog
from services.webhooks.dispatching import Dispatcher
from services.webhooks.fanout import FanOut
from services.webhooks.handlers import WebhookHandlers, subscribe
from services.webhooks.ownership import Ownership
from services.webhooks.schedule import RetrySchedule
from services.webhooks.subscribing import Subscriptions
from services.webhooks.transport import Transport
from shared.access import OrganizationTree
from shared.http import make_app
from shared.loops import BackgroundLoop
from shared.service import ServiceRuntime
from shared.settings import Settings

SERVICE = "webhooks"
DISPATCHER = web.AppKey("webhook_dispatcher", Dispatcher)
FANOUT = web.AppKey("webhook_fanout", FanOut)
PURGE_EVERY_SECONDS = 3600.0


def create_app(settings: Settings) -> web.Application:
    app = make_app(max_body_bytes=settings.max_body_bytes, identity_secret=settings.internal_identity_secret)
    endpoints.api.setup(app)
    policy = AddressPolicy.from_setting(settings.webhooks_allow_hosts)
    schedule = RetrySchedule.of(settings.webhooks_retry_delays, settings.webhooks_retry_hours)
    secret_key = settings.derived_secret("webhook-secret")

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        async with (
            ServiceRuntime(settings, SERVICE, indexes=store.INDEXES, outbox=store.OUTBOX, app=app) as rt,
            Transport(policy, settings.webhooks_timeout_seconds, settings.webhooks_concurrency) as transport,
        ):
            endpoint_store = store.EndpointStore(rt.db)
            projections = store.ProjectionStore(rt.db)
            # A lease outlives the longest try, so only a dead replica's deliveries are taken over.
            deliveries = store.DeliveryStore(rt.db, lease_seconds=settings.webhooks_timeout_seconds * 2 + 30)
            owners = Ownership(endpoint_store)
            dispatcher = Dispatcher(
                endpoint_store,
                deliveries,
                transport,
                secret_key=secret_key,
                schedule=schedule,
                disable_after_hours=settings.webhooks_disable_after_hours,
                concurrency=settings.webhooks_concurrency,
                per_endpoint=settings.webhooks_endpoint_concurrency,
                poll_seconds=settings.webhooks_poll_seconds,
            )
            subscriptions = Subscriptions(endpoint_store, deliveries, owners, policy, secret_key, rt.bus.publish)
            delivery_log = DeliveryLog(deliveries, owners, dispatcher, settings.webhooks_keep_days)
            app[api.SUBSCRIPTIONS], app[api.DELIVERY_LOG], app[DISPATCHER] = subscriptions, delivery_log, dispatcher

            tree = OrganizationTree(projections.parents)
            app[FANOUT] = fanout = FanOut(endpoint_store, projections, deliveries, tree, dispatcher.wake)
            subscribe(rt.bus, WebhookHandlers(fanout, subscriptions))
            await rt.start()
            dispatcher.start()
            purge = BackgroundLoop("webhook-log-purge", delivery_log.purge, idle_seconds=PURGE_EVERY_SECONDS)
            purge.start()
            try:
                yield
            finally:
                await purge.stop()
                await dispatcher.stop(grace_seconds=settings.webhooks_timeout_seconds)

    app.cleanup_ctx.append(runtime)
    return app
