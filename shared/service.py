"""What every service needs at run time: the store, the bus, the outbox relay.

Each service's `app.py` tells its start-up and shutdown as one story:

    async with ServiceRuntime(settings, "membership", indexes=..., outbox=["members"]) as rt:
        app[STORE] = MemberStore(rt.db, rt.relay)       # build stores
        rt.bus.subscribe("projection", [...], handler)  # declare consumers
        await rt.start()                                # connect the bus, start the relay
        yield                                           # serve
    # leaving: relay drained, consumers cancelled, in-flight messages finished, connections closed
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.bus import EventBus
from shared.http import add_ready_check
from shared.inbox import INDEXES as INBOX_INDEXES
from shared.inbox import MongoInbox
from shared.logging import configure_logging, get_logger
from shared.mongo import IndexSpec, StoreAnswers, connect, ensure_indexes, ping
from shared.outbox import OutboxRelay, OutboxWrites, outbox_indexes
from shared.settings import Settings

log = get_logger(__name__)

_LIVE_BUSES: weakref.WeakSet[EventBus] = weakref.WeakSet()


class BusMetrics:
    """Prometheus view of every consumer's outcomes (handled, retried, parked), read
    from the live buses' subscriptions when `/metrics` is scraped."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "lienhiep_bus_messages",
            "Messages each consumer handled, retried or parked",
            labels=["service", "consumer", "outcome"],
        )
        for bus in list(_LIVE_BUSES):
            for sub in bus.subscriptions:
                for outcome in ("handled", "retried", "parked"):
                    family.add_metric([bus.service, sub.name, outcome], getattr(sub, outcome))
        yield family


REGISTRY.register(BusMetrics())


class ServiceRuntime:
    def __init__(
        self,
        settings: Settings,
        service: str,
        *,
        indexes: Sequence[IndexSpec] = (),
        outbox: Sequence[str] = (),
        app: web.Application | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.indexes = list(indexes)
        self.outbox_collections = list(outbox)
        self.app = app
        self.client: AsyncMongoClient[dict[str, Any]] | None = None
        self.db: AsyncDatabase
        self.bus: EventBus
        self.relay: OutboxRelay
        self.store_answers = StoreAnswers()

    async def __aenter__(self) -> ServiceRuntime:
        s = self.settings
        s.check_secret()
        outbox_writes = OutboxWrites(s.database(self.service), self.outbox_collections)
        self.client = connect(s.mongo_url, listeners=[outbox_writes, self.store_answers])
        self.db = self.client[s.database(self.service)]
        specs = [*self.indexes, *INBOX_INDEXES]
        for name in self.outbox_collections:
            specs.extend(outbox_indexes(name))
        await ensure_indexes(self.db, specs)
        self.bus = EventBus(
            url=s.amqp_url,
            exchange=s.bus_exchange,
            service=self.service,
            queue_prefix=s.bus_queue_prefix,
            prefetch=s.bus_prefetch,
            max_attempts=s.bus_max_attempts,
            retry_delays=s.retry_delays,
            inbox=MongoInbox(self.db),
            archive_max_events=s.bus_archive_max_events,
            archive_hours=s.bus_archive_hours,
            queue_type=s.bus_queue_type,
            delivery_limit=s.bus_delivery_limit,
        )
        _LIVE_BUSES.add(self.bus)
        self.relay = OutboxRelay(
            self.bus,
            [self.db[name] for name in self.outbox_collections],
            poll_seconds=s.outbox_poll_seconds,
        )
        outbox_writes.wake = self.relay.notify
        if self.app is not None:
            self.app[RUNTIME] = self
            add_ready_check(self.app, "store", self._store_ready)
            add_ready_check(self.app, "broker", self._bus_ready)
        return self

    async def start(self) -> None:
        """Connect the bus (declaring every subscription) and start the relay."""
        await self.bus.start()
        if self.outbox_collections:
            self.relay.start()
        log.info("service.started", service=self.service)

    async def __aexit__(self, *exc_info) -> None:
        await self.relay.stop()
        await self.bus.close()
        _LIVE_BUSES.discard(self.bus)
        if self.client is not None:
            await self.client.close()
        log.info("service.stopped", service=self.service)

    async def _store_ready(self) -> tuple[bool, str]:
        if self.store_answers.answered_within(STORE_ANSWER_FRESH_SECONDS):
            return True, "ok"  # the service's own work just heard from the store
        ok = await ping(self.db)
        return ok, "ok" if ok else "store unreachable"

    async def _bus_ready(self) -> tuple[bool, str]:
        return self.bus.readiness()


RUNTIME = web.AppKey("service_runtime", ServiceRuntime)
# A store that answered a command this recently counts as reachable without a ping
# (a command failing without an answer makes the next check ping at once).
STORE_ANSWER_FRESH_SECONDS = 30.0


def run_service(
    service: str,
    create_app: Callable[[Settings], web.Application],
    port_of: Callable[[Settings], int],
    host_of: Callable[[Settings], str] | None = None,
    server_options: Callable[[Settings], dict[str, Any]] | None = None,
) -> None:
    """Entry point of `python -m services.<name>`: log, build the app, serve until SIGTERM/SIGINT.
    `server_options`: extra options of aiohttp's server (e.g. the gateway's keep-alive timeout)."""
    settings = Settings()
    configure_logging(service, settings.log_level)
    app = create_app(settings)
    host = host_of(settings) if host_of else settings.service_host
    log.info("service.listening", service=service, url=f"http://{host}:{port_of(settings)}")
    # shutdown_timeout: how long open HTTP requests may take to finish on shutdown.
    web.run_app(
        app,
        host=host,
        port=port_of(settings),
        print=None,
        shutdown_timeout=20,
        access_log=None,
        handle_signals=True,
        **(server_options(settings) if server_options else {}),
    )
