"""Two webhooks replicas on one store and one bus: what one writes of an endpoint, the
other's fan-out hears at once. Each keeps which endpoints listen in memory
(listeners.py); here its safety-net read is an hour away, so only the broadcast
`webhook.endpoint_changed` (or a bus reconnect) can make it read them again."""

from __future__ import annotations

import asyncio
import json

import pytest

from services.webhooks import listeners
from services.webhooks.app import FANOUT
from shared.contracts import new_event, parse_data
from shared.service import RUNTIME
from tests.fakes.partner_events import ENGINEERS, member
from tests.support import PrivateVhost, eventually

pytestmark = pytest.mark.integration

AT_ONCE = 1.0  # seconds: the safety net is 3600 here


@pytest.fixture
async def replicas(make_webhooks, monkeypatch):
    monkeypatch.setattr(listeners, "SAFETY_NET_SECONDS", 3600.0)
    # The relays look for leftovers rarely, as in production: one notice per change (two
    # relays both finding a pending one publish it twice, which only costs a read more).
    first, second = await make_webhooks(outbox_poll_seconds=60.0), await make_webhooks(outbox_poll_seconds=60.0)
    await first.seed_tree()
    return first, second


async def chosen_by(replica) -> set[str]:
    """The endpoints a new `member.approved` fanned out on this replica gets a delivery for.
    (Called on the replica itself: through the bus, either replica may take the event.)"""
    envelope = new_event(member([ENGINEERS]), producer="membership")
    await replica.client.server.app[FANOUT].on_event(envelope, parse_data(envelope))
    return {d["endpoint_id"] async for d in replica.db["deliveries"].find({"event_id": envelope.id})}


def count_reads(replica, monkeypatch) -> list[int]:
    """How many times the replica's fan-out reads the endpoints from now on."""
    reads = [0]
    store = replica.client.server.app[FANOUT].listeners.endpoints
    active = store.active

    async def counted():
        reads[0] += 1
        return await active()

    monkeypatch.setattr(store, "active", counted)
    return reads


async def test_an_endpoint_registered_on_one_replica_is_heard_by_the_other_at_once(replicas, receiver, monkeypatch):
    first, second = replicas
    assert await chosen_by(second) == set()  # read now, and kept
    reads = count_reads(second, monkeypatch)
    made = await first.register(first.key("a1b2c3d4"), receiver.url + "/new", ["member.approved"])
    await first.knows(made["id"], "member.approved", timeout=0.1)  # the replica that wrote it: at once

    async def heard() -> bool:
        return made["id"] in await chosen_by(second)

    await eventually(heard, timeout=AT_ONCE, interval=0.02, what="the other replica fans out to the new endpoint")
    [delivered] = await receiver.wait_for("/new")
    assert json.loads(delivered.body)["type"] == "member.approved"
    # A read for the notice (two, should a second relay publish it too), none for the events
    # after it, and one for events that find the kept copy stale at once.
    assert reads[0] >= 1
    settled = reads[0]
    await asyncio.gather(*(chosen_by(second) for _ in range(5)))
    assert reads[0] == settled
    second.client.server.app[FANOUT].listeners.stale()
    await asyncio.gather(*(chosen_by(second) for _ in range(5)))
    assert reads[0] == settled + 1


async def test_a_paused_or_removed_endpoint_stops_being_chosen_by_the_other_replica_at_once(replicas, receiver):
    first, second = replicas
    assert await chosen_by(second) == set()
    key = first.key("a1b2c3d4")
    made = await first.register(key, receiver.url + "/x", ["member.approved"])
    path = f"/webhooks/endpoints/{made['id']}"

    async def chosen() -> bool:
        return made["id"] in await chosen_by(second)

    async def not_chosen() -> bool:
        return not await chosen()

    await eventually(chosen, timeout=AT_ONCE, interval=0.02, what="registered: heard")
    for change, expected in ((False, not_chosen), (True, chosen)):  # paused, then resumed
        assert (await first.client.patch(path, json={"enabled": change}, headers=key)).status == 200
        await eventually(expected, timeout=AT_ONCE, interval=0.02, what=f"enabled={change}: heard")

    assert (await first.client.delete(path, headers=key)).status == 204
    await eventually(not_chosen, timeout=AT_ONCE, interval=0.02, what="removed: heard")


async def test_a_replica_whose_bus_came_back_reads_the_endpoints_again(replicas, receiver, vhost: PrivateVhost):
    """Broadcasts sent while a replica was disconnected never reach it: coming back, it
    reads the endpoints again instead of trusting what it kept."""
    first, second = replicas
    assert await chosen_by(second) == set()  # read now, and kept
    notices = second.client.server.app[RUNTIME].bus.subscription("endpoint_changes")

    async def missed(envelope, data) -> None:
        """The notice never reached this replica (it was away)."""

    notices.handler = missed
    made = await first.register(first.key("a1b2c3d4"), receiver.url + "/x", ["member.approved"])
    await eventually(lambda: _true(notices.handled >= 1), what="the notice came and went unheard")
    assert await chosen_by(second) == set()  # nobody told it

    await asyncio.to_thread(vhost.close_connections)

    async def chosen() -> bool:
        return made["id"] in await chosen_by(second)

    await eventually(chosen, timeout=30, interval=0.1, what="read again once the bus came back")


async def _true(value: bool) -> bool:
    return value
