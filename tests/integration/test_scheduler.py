"""Scheduled work fires exactly once, however many replicas run."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.clock import epoch
from shared.contracts import MembershipExpiring, new_event
from shared.mongo import ensure_indexes
from shared.outbox import EVENTS, outbox_indexes
from shared.scheduler import DueItems, Scheduler, due_item_indexes

pytestmark = pytest.mark.integration


@pytest.fixture
async def items(db):
    await ensure_indexes(db, [*due_item_indexes("reminders"), *outbox_indexes("reminders")])
    return db["reminders"]


def expiring(member_id: str):
    return new_event(
        MembershipExpiring(
            member_id=member_id, full_name="Bùi Văn Nam", status="active", term_end="2026-12-31", days_left=30
        ),
        producer="membership",
    )


async def test_two_replicas_fire_each_due_item_once(items):
    fired: list[str] = []

    async def job(item):
        fired.append(item["_id"])
        await asyncio.sleep(0)  # let the other replica try the same item meanwhile
        return [expiring(item["payload"]["member_id"])]

    queue = DueItems(items)
    for i in range(20):
        assert await queue.schedule(f"expiring:30:m{i}", epoch(plus_seconds=-1), {"member_id": f"m{i}"})
    assert not await queue.schedule("expiring:30:m0", epoch(), {"member_id": "m0"}), "scheduling twice is harmless"
    await queue.schedule("later", epoch(plus_seconds=3600), {"member_id": "late"})

    replicas = [Scheduler(DueItems(items), job, name=f"r{i}") for i in range(2)]
    done = await asyncio.gather(*(r.run_due() for r in replicas))
    assert sum(done) == 20
    assert sorted(fired) == sorted(f"expiring:30:m{i}" for i in range(20))
    stored = await items.find({"state": "done"}).to_list()
    assert len(stored) == 20 and all(len(d[EVENTS]) == 1 for d in stored), "one event each, in the same write"
    assert (await items.find_one({"_id": "later"}))["state"] == "pending"


async def test_an_item_whose_worker_died_is_claimed_again_after_its_lease(items):
    queue = DueItems(items, lease_seconds=0.2)
    await queue.schedule("k", epoch(plus_seconds=-1), {"member_id": "m"})
    crashed = await queue.claim()  # claimed by a replica that then died
    assert crashed is not None and await queue.claim() is None
    await asyncio.sleep(0.25)  # the lease runs out
    retaken = await queue.claim()
    assert retaken is not None and retaken["attempts"] == 2
    assert not await queue.finish(crashed, [expiring("m")]), "a lost lease writes nothing"
    assert await queue.finish(retaken, [expiring("m")])
    assert len((await items.find_one({"_id": "k"}))[EVENTS]) == 1


async def test_failed_jobs_are_retried_later_and_cancelled_items_never_fire(items):
    calls: list[str] = []

    async def flaky(item):
        calls.append(item["_id"])
        if len(calls) == 1:
            raise ConnectionError("provider down")
        return []

    queue = DueItems(items)
    await queue.schedule("a", epoch(plus_seconds=-1), {})
    await queue.schedule("b", epoch(plus_seconds=-1), {})
    assert await queue.cancel("b")
    scheduler = Scheduler(queue, flaky, name="t", retry_seconds=0.0)
    assert await scheduler.run_due() == 1
    assert calls == ["a", "a"]
    assert (await items.find_one({"_id": "b"}))["state"] == "cancelled"


async def test_rescheduling_moves_a_pending_item(items):
    queue = DueItems(items)
    key = f"r-{uuid.uuid4().hex}"
    await queue.schedule(key, epoch(plus_seconds=3600), {})
    assert await queue.claim() is None
    assert await queue.reschedule(key, epoch(plus_seconds=-1))
    assert (await queue.claim())["_id"] == key
