"""The events service in process, with the real broker and the embedded store, and
helpers to seed its projections and make events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.events.app import DEPS, create_app
from shared.contracts import MemberUpdated, OrganizationCreated
from shared.identity import HEADER, Identity, sign
from tests.support import eventually
from tests.support.bus import make_bus

NOW = datetime.now(UTC)


class Service:
    """The running app and ways to act on it as different callers."""

    def __init__(self, client, settings) -> None:
        self.client = client
        self.settings = settings

    @property
    def app(self):
        return self.client.server.app

    @property
    def deps(self):
        return self.app[DEPS]

    def as_(self, sub: str = "staff:lan", roles=("admin",), scopes=(), org: str | None = None) -> dict[str, str]:
        return {
            HEADER: sign(
                Identity(sub=sub, roles=tuple(roles), scopes=tuple(scopes), organization_id=org),
                self.settings.internal_identity_secret,
            )
        }

    @property
    def admin(self) -> dict[str, str]:
        return self.as_()

    @property
    def partner(self) -> dict[str, str]:
        return self.as_("key:portal", roles=(), scopes=("events:read", "events:write", "registrations:write"))

    @property
    def anonymous(self) -> dict[str, str]:
        return self.as_("anonymous", roles=())

    async def org(self, org_id: str, code: str, parent: str | None = None, name: str | None = None) -> None:
        deps = self.app[DEPS]
        await deps.orgs.apply(
            OrganizationCreated(
                organization_id=org_id, code=code, name=name or f"Hội {code}", kind="association", parent_id=parent
            ),
            NOW,
        )
        deps.tree.invalidate()

    async def member(
        self, member_id: str, *, status: str = "active", orgs=(), email: str | None = None, name: str = "Trần Thị Bình"
    ) -> None:
        await self.app[DEPS].members.apply(
            MemberUpdated(member_id=member_id, full_name=name, email=email, status=status, organization_ids=list(orgs)),
            datetime.now(UTC),
        )

    async def event(
        self, *, capacity: int = 10, publish: bool = True, starts_in: timedelta = timedelta(days=7), **fields: Any
    ) -> dict[str, Any]:
        start = datetime.now(UTC) + starts_in
        body = {
            "kind": "seminar",
            "title": {"vi": "Hội thảo chuyển đổi số", "en": "Digital transformation"},
            "organizer": "LHH",
            "venue": "Hội trường Liên hiệp, 12 Lê Lợi",
            "capacity": capacity,
            "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat()}],
            **fields,
        }
        resp = await self.client.post("/events", json=body, headers=self.admin)
        assert resp.status == 201, await resp.text()
        created = await resp.json()
        if publish:
            resp = await self.client.post(f"/events/{created['id']}/publish", headers=self.admin)
            assert resp.status == 200, await resp.text()
            created = await resp.json()
        return created

    async def register(self, event_id: str, body: dict[str, Any], headers: dict[str, str] | None = None):
        return await self.client.post(
            f"/events/{event_id}/registrations", json=body, headers={**self.partner, **(headers or {})}
        )

    async def guest(self, event_id: str, n: int, **extra: Any):
        return await self.register(
            event_id, {"guest": {"full_name": f"Khách {n}", "email": f"khach{n}@example.vn", **extra}}
        )

    async def counters(self, event_id: str) -> dict[str, Any]:
        return await self.app[DEPS].ledger.counters(event_id)


EVENT_TYPES = [
    "event.published",
    "event.updated",
    "event.cancelled",
    "registration.confirmed",
    "registration.waitlisted",
    "registration.promoted",
    "registration.cancelled",
    "event.reminder_due",
    "attendance.checked_in",
    "certificate.issued",
]


@pytest.fixture
async def svc(aiohttp_client, settings):
    """The service, and a listener (standing in for notifications) that hears all it announces."""
    listener = Listener(settings, EVENT_TYPES)
    await listener.bus.start()
    client = await aiohttp_client(create_app(settings))
    service = Service(client, settings)
    service.heard = listener
    await service.org("org-lhh", "LHH", name="Liên hiệp các Hội KH&KT tỉnh")
    yield service
    await listener.bus.close()


class Listener:
    """A separate consumer on the same exchange that records what the events service announced."""

    def __init__(self, settings, types: list[str]) -> None:
        self.bus = make_bus(settings, "listener")
        self.seen: list[tuple[str, Any]] = []
        self.ids: set[str] = set()
        self.bus.subscribe("all", types, self._record)

    async def _record(self, envelope, data) -> None:
        # Two replicas' relays may both publish an event (at least once); consumers keep one.
        if envelope.id not in self.ids:
            self.ids.add(envelope.id)
            self.seen.append((envelope.type, data))

    def of(self, event_type: str) -> list[Any]:
        return [d for t, d in self.seen if t == event_type]


async def heard(listener: Listener, event_type: str, count: int) -> list[Any]:
    """Wait until the listener heard `count` events of a type; return them."""

    async def check():
        return len(listener.of(event_type)) >= count

    await eventually(check, what=f"{count} × {event_type}")
    return listener.of(event_type)


async def gather_limited(coros, limit: int = 100):
    """Run many requests at once, at most `limit` in flight (the test client's pool)."""
    gate = asyncio.Semaphore(limit)

    async def one(coro):
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))
