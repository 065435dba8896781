"""The webhooks service in process on the real broker and the embedded store, partners'
endpoints as real local HTTP servers, and events published on the bus as membership
and events publish them."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

from services.webhooks.app import FANOUT, create_app
from shared.contracts import EventData, new_event
from shared.service import RUNTIME
from shared.settings import Settings
from tests.fakes.partner_events import event_type, organizations
from tests.support import eventually
from tests.support.bus import make_bus
from tests.support.identity import admin_headers, key_headers, manager_headers

HOOKS = ["webhooks:manage"]
EVERYTHING = ("members:read", "events:read", "registrations:write", "webhooks:manage")


@dataclass
class Received:
    path: str
    headers: CIMultiDict[str]
    body: bytes
    at: float  # time.monotonic()

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """A partner's endpoint: records every request, answers as told (200 by default)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: deque[tuple[int, str, dict[str, str]]] = field(default_factory=deque)
    delay: float = 0.0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append(
            Received(request.path, CIMultiDict(request.headers), await request.read(), time.monotonic())
        )
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow partner
        status, text, headers = self.answers.popleft() if self.answers else (200, "ok", {})
        return web.Response(status=status, text=text, headers=headers)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        async def enough() -> list[Received] | None:
            found = self.at(path)
            return found if len(found) >= count else None

        return await eventually(enough, timeout=timeout, what=f"{count} deliveries at {path}")


@pytest.fixture
async def receiver(aiohttp_server) -> Receiver:
    partner = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", partner.handle)
    server = await aiohttp_server(app)
    partner.url = str(server.make_url("")).rstrip("/")
    return partner


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhooks_allow_hosts": "127.0.0.0/8",
            "webhooks_retry_seconds": "0.2,0.3",
            "webhooks_retry_hours": 1.0,
            "webhooks_poll_seconds": 0.1,
            "webhooks_timeout_seconds": 2.0,
        }
    )


class Webhooks:
    """The running service, callers to act as, and a way to publish events."""

    def __init__(self, client: Any, settings: Settings, bus: Any) -> None:
        self.client = client
        self.settings = settings
        self.bus = bus
        self.published = 0

    @property
    def db(self) -> Any:
        return self.client.server.app[RUNTIME].db

    def key(self, prefix: str, scopes: tuple[str, ...] = EVERYTHING, org: str | None = None) -> dict[str, str]:
        return key_headers(self.settings, scopes, org, prefix=prefix)

    @property
    def admin(self) -> dict[str, str]:
        return admin_headers(self.settings)

    def manager(self, org: str) -> dict[str, str]:
        return manager_headers(self.settings, org)

    async def register(self, headers: dict[str, str], url: str, types: list[str], **extra: Any) -> dict[str, Any]:
        body = {"url": url, "event_types": types, "contact_email": "ops@partner.example.vn", **extra}
        resp = await self.client.post("/webhooks/endpoints", json=body, headers=headers)
        assert resp.status == 201, await resp.text()
        return await resp.json()

    async def publish(self, data: EventData, producer: str = "membership") -> str:
        envelope = new_event(data, producer=producer)
        await self.bus.publish(envelope)
        self.published += 1
        return envelope.id

    async def log(self, endpoint_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
        resp = await self.client.get(f"/webhooks/endpoints/{endpoint_id}/deliveries", headers=headers)
        assert resp.status == 200, await resp.text()
        return (await resp.json())["items"]

    async def handled(self, event_id: str) -> None:
        """Wait until the service has fully handled an event: its consumers have settled
        every event published so far (they take no inbox claim to look at: idempotent)."""
        subscriptions = self.client.server.app[RUNTIME].bus.subscriptions

        async def done() -> bool:
            return sum(s.handled + s.parked for s in subscriptions) >= self.published

        await eventually(done, what=f"event {event_id} handled")

    async def knows(self, endpoint_id: str, event_type: str, timeout: float = 10.0) -> None:
        """Wait until this replica's fan-out counts the endpoint among those listening."""
        listeners = self.client.server.app[FANOUT].listeners

        async def listed() -> bool:
            return endpoint_id in [e["_id"] for e in await listeners.of(event_type)]

        await eventually(listed, timeout=timeout, interval=0.05, what=f"endpoint {endpoint_id} known")

    async def seed_tree(self) -> None:
        """The organisation tree, as membership announced it (the projection reach needs)."""
        for org in organizations():
            await self.publish(org)

        async def known() -> bool:
            return await self.db["organizations"].count_documents({}) == len(organizations())

        await eventually(known, what="the organisation tree projected")


@pytest.fixture
async def make_webhooks(aiohttp_client, hook_settings):
    publisher = make_bus(hook_settings, "publisher")
    await publisher.start()

    async def make(**changes: Any) -> Webhooks:
        s = hook_settings.model_copy(update=changes)
        return Webhooks(await aiohttp_client(create_app(s)), s, publisher)

    yield make
    await publisher.close()


@pytest.fixture
async def hooks(make_webhooks) -> Webhooks:
    service = await make_webhooks()
    await service.seed_tree()
    return service


__all__ = ["EVERYTHING", "HOOKS", "Receiver", "Webhooks", "event_type"]
