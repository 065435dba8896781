"""The broker drops every connection in the middle of traffic: every event is still
handled, once, and promptly (not after a claim's lease of minutes)."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.contracts import MemberApproved, new_event
from shared.inbox import MongoInbox
from tests.support import PrivateVhost, eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration
EVENTS = 60


async def test_after_a_connection_drop_under_load_every_event_has_one_effect_within_seconds(
    settings, db, vhost: PrivateVhost
):
    effects: dict[str, int] = {}
    in_flight = asyncio.Event()

    async def slow_handler(envelope, data):
        in_flight.set()
        await asyncio.sleep(0.05)  # work in hand when the connection goes
        # The effect is keyed by the event, as every handler's is: a re-run changes nothing.
        await db["effects"].update_one({"_id": envelope.id}, {"$inc": {"runs": 1}}, upsert=True)
        effects[envelope.id] = effects.get(envelope.id, 0) + 1

    consumer = make_bus(settings, "notifications", inbox=MongoInbox(db))
    consumer.subscribe("welcome", ["member.approved"], slow_handler)
    await consumer.start()
    producer = make_bus(settings, "membership")
    await producer.start()
    try:
        sent = [
            new_event(
                MemberApproved(member_id=f"m-{i}", full_name="Trần Thị Bình", status="active"), producer="membership"
            )
            for i in range(EVENTS)
        ]
        for event in sent:
            await producer.publish(event)
        await in_flight.wait()
        dropped_at = time.monotonic()
        vhost.close_connections()

        async def all_done() -> bool:
            return await db["inbox"].count_documents({"status": "done"}) == EVENTS

        await eventually(all_done, timeout=30, what="every event handled")
        recovered = time.monotonic() - dropped_at
        assert set(effects) == {e.id for e in sent}
        assert await db["inbox"].count_documents({"status": "processing"}) == 0
        # A handler cut off mid-way may run again (its effect is keyed); none is lost.
        assert recovered < 20, f"recovered in {recovered:.1f}s"
    finally:
        await producer.close()
        await consumer.close()
