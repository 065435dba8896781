"""Newest-wins projections (shared/projection.py) on the store, and a bus subscription
whose handler's own write decides duplicates (no inbox claim)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import BulkWriteError, WriteError

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


async def test_an_event_the_store_refuses_fails_alone_and_the_rest_of_its_batch_keeps_its_outcome(db):
    members = NewestWins(db["members"])
    later = T0 + timedelta(seconds=1)
    await members.apply("m1", {"$set": {"visits": "many"}}, T0)  # a number kept as text by some older version
    await members.apply("m2", {"$set": {"name": "An"}}, T0)
    refused, renamed, stale, made = await asyncio.gather(
        members.apply("m1", {"$inc": {"visits": 1}}, later),  # refused: text cannot be incremented
        members.apply("m2", {"$set": {"name": "Bình"}}, later),
        members.apply("m2", {"$set": {"name": "An cũ"}}, T0 - timedelta(seconds=1)),
        members.apply("m3", {"$set": {"name": "Chi"}}, later),
        return_exceptions=True,
    )
    assert isinstance(refused, WriteError)
    assert (renamed, stale, made) == ("updated", "stale", "new")
    kept = {d["_id"]: d.get("name", d.get("visits")) async for d in db["members"].find({})}
    assert kept == {"m1": "many", "m2": "Bình", "m3": "Chi"}


class RacedOnce:
    """The collection as a replica sees it when another replica's first write of a key lands
    between its own write's filter (no document yet) and its insert: MongoDB 7 refuses the
    insert (E11000) and, the filter not being plain equality, does not retry it itself.
    nx-27017 serialises writes, so the race is played out: the other replica writes first,
    and the refusal is answered as MongoDB answers it."""

    def __init__(self, collection, rival) -> None:
        self.collection = collection
        self.rival = rival

    async def bulk_write(self, ops, ordered):
        if self.rival is None:
            return await self.collection.bulk_write(ops, ordered=ordered)
        rival, self.rival = self.rival, None
        await rival()
        errors = [{"index": i, "code": 11000, "errmsg": "E11000 duplicate key error"} for i in range(len(ops))]
        raise BulkWriteError({"writeErrors": errors, "writeConcernErrors": [], "nUpserted": 0, "upserted": []})


async def test_an_erasure_that_loses_the_race_to_create_the_document_still_erases(db):
    other_replica = NewestWins(db["members"])

    async def approved_meanwhile():
        assert await other_replica.apply("m1", {"$set": {"name": "An", "email": "an@example.com"}}, T0) == "new"

    members = NewestWins(RacedOnce(db["members"], approved_meanwhile))
    erasure = {"$set": {"status": "erased"}, "$unset": {"name": "", "email": ""}}
    assert await members.apply("m1", erasure, T0 + timedelta(seconds=1)) == "updated"
    assert await db["members"].find_one({"_id": "m1"}, {"_id": 0, "status": 1, "name": 1, "email": 1}) == {
        "status": "erased"
    }


async def test_an_older_event_that_loses_the_race_to_create_the_document_is_still_stale(db):
    other_replica = NewestWins(db["members"])

    async def renamed_meanwhile():
        assert await other_replica.apply("m1", {"$set": {"name": "Bình"}}, T0 + timedelta(seconds=1)) == "new"

    members = NewestWins(RacedOnce(db["members"], renamed_meanwhile))
    assert await members.apply("m1", {"$set": {"name": "An"}}, T0) == "stale"
    assert await members.apply("m1", {"$set": {"name": "An"}}, T0) == "stale", "and without a race"
    assert (await db["members"].find_one({"_id": "m1"}))["name"] == "Bình"


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
