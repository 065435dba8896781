"""What events tells the world, and what it could not handle (issue 11.1, 11.6): a
published change of date or venue says what it was and what it is now; messages the
events consumers gave up on are listed for staff and replayed on request."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest

from tests.integration.events.conftest import heard
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_a_published_change_of_date_or_venue_carries_before_and_after(svc):
    event = await svc.event(capacity=3)
    await svc.guest(event["id"], 1)
    later = datetime.now(UTC) + timedelta(days=9)
    moved = {
        "venue": "Nhà văn hoá tỉnh",
        "sessions": [{"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()}],
    }
    resp = await svc.client.patch(f"/events/{event['id']}", json=moved, headers=svc.admin)
    assert resp.status == 200, await resp.text()
    [updated] = await heard(svc.heard, "event.updated", 1)
    assert {"venue", "starts_at", "sessions"} <= set(updated.changed)
    assert updated.event.venue == "Nhà văn hoá tỉnh" and updated.event.starts_at == later.replace(microsecond=0)
    assert updated.previous is not None and updated.previous.venue == event["venue"]
    assert updated.previous.starts_at.isoformat().startswith(event["starts_at"][:16])
    assert [r.full_name for r in updated.registrants] == ["Khách 1"] and updated.registrants[0].email

    # Sending the same values again changes nothing and tells nobody.
    same = await svc.client.patch(f"/events/{event['id']}", json={"venue": "Nhà văn hoá tỉnh"}, headers=svc.admin)
    assert same.status == 200
    resp = await svc.client.patch(f"/events/{event['id']}", json={"training_hours": None}, headers=svc.admin)
    assert resp.status == 200
    assert len(svc.heard.of("event.updated")) == 1


async def test_parked_messages_of_events_are_listed_and_replayed(svc):
    """A member event whose data breaks its contract is parked by the projection's consumer;
    staff list it under /events/parked-messages and send it through again."""
    conn = await aio_pika.connect_robust(svc.settings.amqp_url)
    try:
        channel = await conn.channel()
        exchange = await channel.get_exchange(svc.settings.bus_exchange)
        envelope = {
            "id": str(uuid.uuid4()),
            "type": "member.updated",
            "version": 1,
            "occurred_at": "2026-11-27T09:00:00Z",
            "producer": "membership",
            "data": {"full_name": 5},
        }
        await exchange.publish(
            aio_pika.Message(json.dumps(envelope).encode(), message_id=envelope["id"], type=envelope["type"]),
            routing_key="member.updated",
        )
    finally:
        await conn.close()

    async def parked():
        report = await (await svc.client.get("/events/parked-messages", headers=svc.admin)).json()
        found = [c for c in report["consumers"] if c["consumer"] == "member_projection" and c["parked"]]
        return found and report

    report = await eventually(parked, what="parked message listed")
    assert report["service"] == "events"
    [consumer] = [c for c in report["consumers"] if c["consumer"] == "member_projection"]
    assert [m["message_id"] for m in consumer["messages"]] == [envelope["id"]]
    manager = svc.as_("staff:nn", roles=("manager",), org="org-lhh")
    assert (await svc.client.get("/events/parked-messages", headers=manager)).status == 403
    replay = await svc.client.post("/events/parked-messages/member_projection/replay", headers=svc.admin)
    assert replay.status == 200 and (await replay.json())["replayed"] == 1
    unknown = await svc.client.post("/events/parked-messages/nope/replay", headers=svc.admin)
    assert unknown.status == 404
    outbox = await svc.client.post("/events/parked-messages/outbox/replay", headers=svc.admin)
    assert outbox.status == 200
    await eventually(parked, what="parked again (it still cannot succeed)")
