"""Newest-wins projections (shared/projection.py) on the store, and a bus subscription
whose handler's own write decides duplicates (no inbox claim)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts import MemberApproved, MemberUpdated, new_event
from shared.inbox import MongoInbox
from shared.projection import NewestWins
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 3, 9, 0, 0, 100_000, tzinfo=UTC)


async def test_the_newest_event_wins_whatever_order_the_writes_of_one_turn_come_in(db):
    members = NewestWins(db["members"])
    later = T0 + timedelta(milliseconds=300)  # the same second: the store must tell them apart
    results = await asyncio.gather(
        members.apply("m1", {"$set": {"name": "An"}}, T0),
        members.apply("m2", {"$set": {"name": "Bình"}}, T0),
        members.apply("m1", {"$set": {"name": "An (đổi tên)"}}, later),
        members.apply("m2", {"$set": {"name": "Bình cũ"}}, T0 - timedelta(milliseconds=1)),
    )
    assert results == ["new", "new", "updated", "stale"]
    assert await members.apply("m1", {"$set": {"name": "An"}}, T0) == "stale"  # late, older
    assert await members.apply("m1", {"$set": {"name": "An (đổi tên)"}}, later) == "updated"  # a redelivery
    names = {d["_id"]: d["name"] async for d in db["members"].find({})}
    assert names == {"m1": "An (đổi tên)", "m2": "Bình"}


async def test_a_document_projected_before_event_times_were_numbers_takes_the_next_event(db):
    await db["members"].insert_one({"_id": "m1", "name": "An", "as_of": T0})
    assert await NewestWins(db["members"]).apply("m1", {"$unset": {"name": ""}}, T0) == "updated"
    assert "name" not in await db["members"].find_one({"_id": "m1"})


async def test_an_idempotent_subscription_has_one_effect_per_event_without_inbox_claims(settings, db):
    members = NewestWins(db["members"])
    applied: list[str] = []

    async def handler(envelope, data):
        applied.append(await members.apply(data.member_id, {"$set": {"name": data.full_name}}, envelope.occurred_at))

    bus = make_bus(settings, inbox=MongoInbox(db))
    bus.subscribe("member_projection", ["member.approved", "member.updated"], handler, idempotent=True)
    await bus.start()
    try:
        first = new_event(MemberApproved(member_id="m1", full_name="An", status="active"), producer="membership")
        renamed = new_event(MemberUpdated(member_id="m1", full_name="Bình", status="active"), producer="membership")
        for event in (renamed, first, renamed):  # out of order, and the rename published twice
            await bus.publish(event)
        await eventually(lambda: _async(len(applied) == 3), what="three copies handled")
        # Whatever order the copies were handled in, the newest name stays and no claim was written.
        assert (await db["members"].find_one({"_id": "m1"}))["name"] == "Bình"
        assert applied.count("new") == 1
        assert await db["inbox"].count_documents({}) == 0
    finally:
        await bus.close()


async def _async(value):
    return value
