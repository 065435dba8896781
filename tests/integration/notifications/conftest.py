"""The notifications service in-process, with the real broker, the embedded store,
a real SMTP server (aiosmtpd) and a fake SMS provider on a real HTTP port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from services.notifications.app import create_app
from shared.bus import EventBus
from shared.identity import HEADER, Identity, sign
from shared.mongo import connect
from shared.settings import Settings
from tests.fakes.sms_provider import FakeSmsProvider
from tests.smtp_server import SmtpServer
from tests.support import eventually
from tests.support.bus import make_bus


@dataclass
class Notify:
    client: Any
    publisher: EventBus
    staff: dict[str, str]
    smtp: SmtpServer
    sms: FakeSmsProvider
    settings: Settings
    db: Any

    @property
    def anonymous(self) -> dict[str, str]:
        """What the gateway forwards for a caller without credentials (public endpoints)."""
        return {HEADER: sign(Identity(sub="anonymous"), self.settings.internal_identity_secret)}

    async def get(self, path: str, **params) -> Any:
        resp = await self.client.get(path, headers=self.staff, params=params)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def deliveries(self, **query) -> list[dict[str, Any]]:
        return (await self.get("/notifications/deliveries", limit=500, **query))["items"]

    async def settled(self, event_id: str, count: int) -> list[dict[str, Any]]:
        """Wait until `count` deliveries of an event left the queue; return them."""

        async def check():
            items = await self.deliveries(event_id=event_id)
            done = [d for d in items if d["status"] not in ("queued", "sending")]
            return done if len(done) == count and len(items) == count else None

        return await eventually(check, what=f"{count} deliveries of {event_id} settled")


def notify_settings(settings: Settings, smtp: SmtpServer, sms: FakeSmsProvider, **extra) -> Settings:
    return settings.model_copy(
        update={
            "smtp_port": smtp.port,
            "sms_provider": sms.shape,
            "sms_provider_url": sms.url,
            "sms_provider_token": sms.token,
            "esms_url": sms.url,
            "esms_api_key": "key",
            "esms_secret_key": "secret",
            "notify_retry_seconds": "0.2,0.4",
            "notify_max_attempts": 3,
            "sms_quiet_start_hour": 0,
            "sms_quiet_end_hour": 0,  # no quiet hours unless a test sets them
            **extra,
        }
    )


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def sms() -> AsyncIterator[FakeSmsProvider]:
    provider = await FakeSmsProvider().start()
    yield provider
    await provider.stop()


@pytest.fixture
async def make_notify(aiohttp_client, settings, smtp) -> AsyncIterator:
    """Start the service (again, after a stop: a restart) with these providers and settings."""
    opened: list[tuple[EventBus, Any]] = []

    async def start(sms: FakeSmsProvider, **extra) -> Notify:
        s = notify_settings(settings, smtp, sms, **extra)
        client = await aiohttp_client(create_app(s))
        publisher = make_bus(s, "producer")
        await publisher.start()
        mongo = connect(s.mongo_url)
        opened.append((publisher, mongo))
        staff = {HEADER: sign(Identity(sub="staff:lan", roles=("admin",)), s.internal_identity_secret)}
        return Notify(client, publisher, staff, smtp, sms, s, mongo[s.database("notifications")])

    yield start
    for publisher, mongo in opened:
        await publisher.close()
        await mongo.close()


@pytest.fixture
async def notify(make_notify, sms) -> Notify:
    return await make_notify(sms)
