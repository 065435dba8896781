"""The query shapes the notifications store relies on, against the store in use
(see tests/integration/test_store_shapes.py for the embedded store's quirks)."""

from __future__ import annotations

import asyncio

import pytest

from services.notifications.store import INDEXES, DeliveryStore
from shared.mongo import ensure_indexes, epoch

pytestmark = pytest.mark.integration


async def test_update_many_counts_only_what_it_changed(db):
    await db.d.insert_many([{"_id": "a", "status": "queued"}, {"_id": "b", "status": "queued"}])
    await db.d.update_one({"_id": "a"}, {"$set": {"status": "sending"}})
    result = await db.d.update_many({"_id": {"$in": ["a", "b"]}, "status": "queued"}, {"$set": {"status": "x"}})
    assert result.modified_count == 1


async def test_racing_dispatchers_claim_disjoint_batches(db):
    await ensure_indexes(db, INDEXES)
    store = DeliveryStore(db)
    await store.plan([{"_id": f"k{i}", "channel": "email", "to": "a@b.vn"} for i in range(120)])
    claimed: list[str] = []
    while True:
        batches = await asyncio.gather(*(store.claim_due(25, channel="email") for _ in range(3)))
        if not any(batches):
            break
        claimed.extend(d["_id"] for batch in batches for d in batch)
    assert sorted(claimed) == sorted(f"k{i}" for i in range(120))  # each once, none lost
    assert {d["attempts"] async for d in db.deliveries.find({})} == {1}


async def test_an_index_on_an_array_answers_in_but_not_equality(db):
    """Why expertise segments query with $in."""
    await ensure_indexes(db, INDEXES)
    await db.contacts.insert_one({"_id": "m", "expertise": ["tri tue nhan tao"]})
    assert await db.contacts.find_one({"expertise": {"$in": ["tri tue nhan tao"]}}) is not None


async def test_an_upserting_update_keeps_the_filter_id(db):
    """Why templates and erasures use update_one(..., upsert=True), not replace_one."""
    await db.t.update_one({"_id": "welcome:email:vi"}, {"$set": {"version": 1}}, upsert=True)
    assert (await db.t.find_one({}))["_id"] == "welcome:email:vi"


async def test_numbers_compare_for_due_times(db):
    await db.q.insert_many([{"_id": 1, "due": epoch() - 5}, {"_id": 2, "due": epoch() + 60}])
    assert [d["_id"] async for d in db.q.find({"due": {"$lte": epoch()}})] == [1]
