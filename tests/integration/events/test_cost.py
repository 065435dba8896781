"""What a registration costs in store round trips (issue 14): the events side of
"register a guest → confirmation sent" — the request and the outbox relay publishing
its announcement — counted on the wire with PyMongo's command monitoring."""

from __future__ import annotations

from collections import Counter

import pytest
from pymongo import monitoring

from tests.integration.events.conftest import heard

pytestmark = pytest.mark.integration
SCANS = {"find", "getMore", "killCursors"}  # reads: the relay's looks (and any idle poll that falls in)
EVENTS_WRITES = 3  # ledger update, insert, the relay's removal of the published event


class Commands(monitoring.CommandListener):
    """Counts commands on one database while `on`."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.on = False
        self.seen: Counter[tuple[str, str]] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.on and event.database_name == self.database:
            target = event.command.get(event.command_name)
            self.seen[(event.command_name, target if isinstance(target, str) else "")] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_guest_registration_costs_few_store_commands(svc, aiohttp_client):
    from services.events.app import create_app

    listener = Commands(svc.settings.database("events"))
    monitoring.register(listener)  # applies to clients made from now on: a second replica
    other = await aiohttp_client(create_app(svc.settings))
    event = await svc.event(capacity=100)
    warm = await other.post(
        f"/events/{event['id']}/registrations",
        headers=svc.partner,
        json={"guest": {"full_name": "Khách 0", "email": "khach0@example.vn"}},
    )
    assert warm.status == 201
    await heard(svc.heard, "registration.confirmed", 1)

    n = 10
    listener.on = True
    for i in range(1, n + 1):
        resp = await other.post(
            f"/events/{event['id']}/registrations",
            headers=svc.partner,
            json={"guest": {"full_name": f"Khách {i}", "email": f"khach{i}@example.vn"}},
        )
        assert resp.status == 201
        await heard(svc.heard, "registration.confirmed", i + 1)
    listener.on = False
    seen = listener.seen
    total = sum(seen.values()) / n
    print(f"events store commands per guest registration: {total:.1f} (reads include the relay's polls)", dict(seen))
    # Writes are exact: one ledger update, one insert (with its event), the relay's removal of the
    # published event — and no write of its own to forget the batch's record (was a 4th).
    assert seen[("findAndModify", "events")] == n and seen[("insert", "registrations")] == n
    assert seen[("update", "events")] == 0, seen
    writes = sum(v for (command, _), v in seen.items() if command not in SCANS)
    assert writes / n <= EVENTS_WRITES, seen
    # Reads: the relay's look for pending events, in each outbox collection, about once each.
    assert seen[("find", "registrations")] <= 2 * n, seen
