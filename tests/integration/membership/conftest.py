"""Membership in process: the real app on the embedded store and a private broker,
staff and managers as the gateway would sign them, and a listener that records
every event membership publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.membership.app import create_app
from shared.identity import HEADER, Identity, sign
from tests.support import DATA, eventually
from tests.support.bus import make_bus

MEMBERSHIP_EVENTS = [
    "member.applied",
    "member.approved",
    "member.updated",
    "member.erased",
    "membership.renewed",
    "membership.expiring",
    "membership.lapsed",
    "organization.created",
    "organization.updated",
]


@pytest.fixture
async def client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def signed(settings):
    def make(
        sub: str = "staff:lan",
        roles: tuple[str, ...] = ("admin",),
        scopes: tuple[str, ...] = (),
        organization_id: str | None = None,
    ) -> dict[str, str]:
        who = Identity(sub=sub, roles=roles, scopes=scopes, organization_id=organization_id)
        return {HEADER: sign(who, settings.internal_identity_secret)}

    return make


@pytest.fixture
def admin(signed):
    return signed()


class Recorder:
    """Every membership event that reached the broker, in arrival order, each event
    once: delivery is at least once (two replicas' relays may both publish an event
    before either clears it), so consumers key on the event id, as this one does."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, Any]] = []
        self.ids: set[str] = set()

    async def handle(self, envelope, data) -> None:
        if envelope.id not in self.ids:
            self.ids.add(envelope.id)
            self.seen.append((envelope, data))

    def of(self, event_type: str, member_id: str | None = None) -> list[Any]:
        return [
            d
            for e, d in self.seen
            if e.type == event_type and (member_id is None or getattr(d, "member_id", None) == member_id)
        ]

    async def wait_for(self, event_type: str, member_id: str | None = None, count: int = 1) -> list[Any]:
        async def enough():
            found = self.of(event_type, member_id)
            return found if len(found) >= count else None

        return await eventually(enough, what=f"{count} × {event_type}")


@pytest.fixture
async def events(settings) -> AsyncIterator[Recorder]:
    recorder = Recorder()
    bus = make_bus(settings, "listener")
    bus.subscribe("all", MEMBERSHIP_EVENTS, recorder.handle)
    await bus.start()
    yield recorder
    await bus.close()


async def post_file(
    client, path: str, headers: dict[str, str], body: bytes, content_type: str = "text/csv", **params: str
):
    return await client.post(path, params=params, data=body, headers={**headers, "Content-Type": content_type})


@pytest.fixture
async def federation(client, admin) -> dict[str, str]:
    """The sample organisations imported: code → id."""
    body = (DATA / "organizations_sample.csv").read_bytes()
    resp = await post_file(client, "/organizations/imports", admin, body)
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert report["rejected"] == 0, report
    listing = await (await client.get("/organizations", headers=admin)).json()
    return {o["code"]: o["id"] for o in listing["items"]}
