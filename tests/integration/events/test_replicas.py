"""Several replicas of the events service on one store: the rush spread over both,
cancellations racing across them, and seats left free by a replica that stopped
mid-way moved to the waiting list."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from services.events.app import SEATING, create_app
from shared.clock import epoch
from tests.integration.events.conftest import gather_limited, heard
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_two_replicas_share_the_rush_and_race_cancellations_without_double_promotion(svc, aiohttp_client):
    other = await aiohttp_client(create_app(svc.settings))
    clients = [svc.client, other]
    event = await svc.event(capacity=20)

    def attempt(i: int):
        return clients[i % 2].post(
            f"/events/{event['id']}/registrations",
            headers=svc.partner,
            json={"guest": {"full_name": f"Khách {i}", "phone": f"09123{i:05d}"}},
        )

    answers = [await r.json() for r in await gather_limited([attempt(i) for i in range(120)])]
    assert Counter(a["status"] for a in answers) == {"confirmed": 20, "waitlisted": 100}
    assert sorted(a["position"] for a in answers if a["status"] == "waitlisted") == list(range(1, 101))

    confirmed = [a["id"] for a in answers if a["status"] == "confirmed"]
    # Ten seats freed at once, each by two callers on different replicas.
    cancels = [clients[j % 2].delete(f"/registrations/{confirmed[j // 2]}", headers=svc.admin) for j in range(20)]
    statuses = Counter(r.status for r in await asyncio.gather(*cancels))
    assert statuses == {200: 10, 409: 10}
    counters = await svc.counters(event["id"])
    assert (counters["confirmed"], counters["seats_free"], counters["waiting"]) == (20, 0, 90)
    promoted = await heard(svc.heard, "registration.promoted", 10)
    by_seq = sorted((a for a in answers if a["status"] == "waitlisted"), key=lambda a: a["position"])
    assert {p.registrant.registration_id for p in promoted} == {a["id"] for a in by_seq[:10]}
    assert len(promoted) == 10, "exactly one promotion per freed seat"


async def test_a_seat_left_free_while_people_wait_is_moved_by_the_healer(svc):
    event = await svc.event(capacity=1)
    holder = await (await svc.guest(event["id"], 1)).json()
    waiting = await (await svc.guest(event["id"], 2)).json()
    seating, deps = svc.app[SEATING], svc.deps
    # A replica cancelled and gave the seat back, then died before promoting anyone.
    await deps.regs.change({"_id": holder["id"]}, {"$set": {"status": "cancelled"}, "$unset": {"holder_email": ""}})
    await deps.ledger.give_back_seat(event["id"])
    assert await seating.heal() == 1
    promoted = await deps.regs.get(waiting["id"])
    assert promoted["status"] == "confirmed" and promoted["ticket_code"]
    assert await seating.heal() == 0, "nothing more to move"


async def test_seats_taken_by_a_replica_that_died_before_writing_are_given_back_once_its_lease_lapses(svc):
    """Issue 11.4: a batch's seats are vouched for by a lease its process renews; once the
    lease lapses (the process died) the next heal — seconds later — gives them back, and the
    counters and the waiting list's positions are exact again."""
    event = await svc.event(capacity=3)
    seating, deps = svc.app[SEATING], svc.deps
    first = await (await svc.guest(event["id"], 1)).json()
    # A replica took two seats and a waiting-list place for a batch, then died before writing it.
    intent = {"key": "dead-batch", "at": epoch(), "lease": epoch(plus_seconds=1.0), "ids": ["n-1", "n-2", "n-3"]}
    assert await deps.ledger.take_seat(event["id"], 2, batch=intent)
    assert await deps.ledger.join_waitlist(event["id"], 1, batch=intent)
    late = await (await svc.guest(event["id"], 2)).json()
    assert late["status"] == "waitlisted" and late["position"] == 2, "the lost place still counts, for now"

    assert await seating.heal() == 0, "a batch whose lease still runs is left alone"
    await asyncio.sleep(1.1)  # the lease (one second here) lapses: its process stopped renewing it
    assert await seating.heal() == 1
    counters = await svc.counters(event["id"])
    assert (counters["confirmed"], counters["seats_free"], counters["waiting"]) == (2, 1, 0)
    promoted = await deps.regs.get(late["id"])
    assert promoted["status"] == "confirmed", "the seat went to the person actually waiting"
    assert first["status"] == "confirmed"
    assert "dead-batch" not in ((await deps.events.get(event["id"])).get("pending") or {})
    assert await seating.heal() == 0, "given back once"


async def test_a_live_batch_renews_its_lease_and_keeps_its_seats(svc):
    """A batch still being written by a live process is never given back, however long it takes."""
    event = await svc.event(capacity=3)
    seating, deps = svc.app[SEATING], svc.deps
    intent = {"key": "slow-batch", "at": epoch(), "lease": epoch(plus_seconds=0.5), "ids": ["s-1"]}
    assert await deps.ledger.take_seat(event["id"], 1, batch=intent)
    seating.in_flight["slow-batch"] = event["id"]  # this process is still writing it
    await asyncio.sleep(0.6)
    assert await seating.heal() == 0
    stored = (await deps.events.get(event["id"]))["pending"]["slow-batch"]
    assert stored["lease"] > epoch() + seating.lease_seconds / 2, "renewed while it lives"
    assert (await svc.counters(event["id"]))["confirmed"] == 1
    seating.in_flight.pop("slow-batch")


async def test_the_service_renews_a_slow_batch_lease_while_it_is_written_and_not_otherwise(svc):
    """Between batches the lease renewer costs nothing; a batch still written a third of a
    lease after it began is renewed by the service's own loop, long before it could lapse."""
    event = await svc.event(capacity=3)
    seating, deps = svc.app[SEATING], svc.deps
    began = epoch()
    intent = {"key": "slow-batch", "at": began, "lease": began + seating.lease_seconds, "ids": ["s-1"]}
    assert await deps.ledger.take_seat(event["id"], 1, batch=intent)
    seating.in_flight["slow-batch"] = event["id"]  # this process is writing it (and tells the renewer)
    try:

        async def renewed() -> bool:
            stored = (await deps.events.get(event["id"]))["pending"]["slow-batch"]
            return stored["lease"] > began + seating.lease_seconds

        await eventually(renewed, timeout=seating.lease_seconds / 3 + 5, what="the slow batch's lease renewed")
        assert epoch() - began < seating.lease_seconds, "renewed before it could lapse"
    finally:
        seating.in_flight.pop("slow-batch")
    assert await seating.renew_due() is None, "no batch in hand: nothing to renew"
