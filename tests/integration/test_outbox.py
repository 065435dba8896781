"""The outbox against the real broker and the embedded store: nothing lost."""

from __future__ import annotations

import uuid

import pytest
from pymongo.errors import AutoReconnect

from shared.bus import EventBus
from shared.clock import epoch
from shared.contracts import MemberApproved, MemberUpdated, new_event
from shared.inbox import MongoInbox
from shared.mongo import connect, ensure_indexes
from shared.outbox import DUE, EVENTS, PENDING, OutboxRelay, outbox_indexes, push_events, with_events
from shared.service import ServiceRuntime
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration


def approved(member_id: str):
    return new_event(
        MemberApproved(member_id=member_id, full_name="Lê Thị Hoa", status="active"), producer="membership"
    )


def updated(member_id: str):
    return new_event(
        MemberUpdated(member_id=member_id, full_name="Lê Thị Hoa", status="active", changed=["email"]),
        producer="membership",
    )


async def consumer(settings, db, received: list[str]) -> EventBus:
    async def handler(envelope, data):
        received.append(envelope.id)

    bus = make_bus(settings, "listener", inbox=MongoInbox(db))
    bus.subscribe("all", ["member.approved", "member.updated"], handler)
    await bus.start()
    return bus


async def test_events_written_while_the_relay_was_down_are_sent_when_it_starts(settings, db):
    members = db["members"]
    await ensure_indexes(db, outbox_indexes("members"))
    events = {}
    for _ in range(5):  # written with no relay running, as if the service crashed right after
        member_id = str(uuid.uuid4())
        events[member_id] = approved(member_id)
        await members.insert_one(with_events({"_id": member_id, "name": "x"}, events[member_id]))
    received: list[str] = []
    listener = await consumer(settings, db, received)
    producer = make_bus(settings, "membership")
    await producer.start()
    relay = OutboxRelay(producer, [members], poll_seconds=0.1)
    relay.start()
    try:
        await eventually(lambda: _async(len(received) >= 5), what="all five delivered")
        assert sorted(received) == sorted(e.id for e in events.values())
        await eventually(lambda: _none_pending(members), what="nothing pending")
        doc = await members.find_one({"_id": next(iter(events))})
        assert doc[EVENTS] == {} and not doc[PENDING]
    finally:
        await relay.stop()
        await producer.close()
        await listener.close()


async def test_an_outbox_write_wakes_the_relay_without_anyone_telling_it(settings):
    """The relay looks only every half minute or so on its own; the write that stores an event
    is what wakes it (a listener on the service's own store client), so the event
    leaves at once although nobody calls notify()."""
    quiet = settings.model_copy(update={"outbox_poll_seconds": 60.0})
    received: list[str] = []
    async with ServiceRuntime(quiet, "membership", outbox=["members"]) as rt:
        listener = await consumer(quiet, rt.db, received)
        await rt.start()
        try:
            await rt.db["members"].insert_one({"_id": "quiet", "name": "x"})  # no event: nothing to wake for
            member_id = str(uuid.uuid4())
            event = approved(member_id)
            await rt.db["members"].insert_one(with_events({"_id": member_id, "name": "x"}, event))
            await eventually(lambda: _async(received == [event.id]), timeout=5, what="published without a notify")
            change = approved(member_id)
            await rt.db["members"].update_one({"_id": member_id}, push_events({"$set": {"name": "y"}}, change))
            await eventually(
                lambda: _async(received == [event.id, change.id]), timeout=5, what="an update wakes it too"
            )
        finally:
            await listener.close()
            await rt.db.client.drop_database(rt.db.name)


async def test_an_update_adds_events_in_the_same_write_and_they_go_out_in_order(settings, db):
    members = db["members"]
    await ensure_indexes(db, outbox_indexes("members"))
    member_id = str(uuid.uuid4())
    first = approved(member_id)
    await members.insert_one(with_events({"_id": member_id, "name": "x"}, first))
    update = new_event(
        MemberUpdated(member_id=member_id, full_name="Lê Thị Hoa", status="active"), producer="membership"
    )
    await members.update_one({"_id": member_id}, push_events({"$set": {"name": "y"}}, update))
    doc = await members.find_one({"_id": member_id})
    assert doc["name"] == "y" and set(doc[EVENTS]) == {first.id, update.id}

    received: list[str] = []
    listener = await consumer(settings, db, received)
    producer = make_bus(settings, "membership")
    await producer.start()
    relay = OutboxRelay(producer, [members])
    try:
        assert await relay.drain() == 2
        await eventually(lambda: _async(len(received) == 2), what="both delivered")
        assert received == [first.id, update.id]
        assert await relay.drain() == 0
    finally:
        await producer.close()
        await listener.close()


async def test_events_stay_pending_while_the_broker_cannot_take_them(settings, db):
    members = db["members"]
    await ensure_indexes(db, outbox_indexes("members"))
    member_id = str(uuid.uuid4())
    event = approved(member_id)
    await members.insert_one(with_events({"_id": member_id}, event))
    producer = make_bus(settings, "membership")
    await producer.start()
    relay = OutboxRelay(producer, [members])
    channel = await producer._connection.channel()  # type: ignore[union-attr]
    await channel.queue_delete(producer.archive_queue_name)  # a broken topology: nothing takes the event
    await channel.close()
    try:
        # No queue is bound: the broker cannot route it, so it must stay.
        assert await relay.drain() == 0
        doc = await members.find_one({"_id": member_id})
        assert doc[PENDING] and event.id in doc[EVENTS]
        assert doc["_outbox_tries"] == 1

        assert await relay.drain() == 0, "backing off: not tried again at once"

        received: list[str] = []
        listener = await consumer(settings, db, received)
        # Make it due now, as the back-off would after a while.
        await members.update_one({"_id": member_id}, {"$set": {DUE: epoch()}})
        assert await relay.drain() == 1
        await eventually(lambda: _async(received == [event.id]), what="delivered once routable")
        await listener.close()
    finally:
        await producer.close()


async def _none_pending(collection) -> bool:
    return await collection.count_documents({PENDING: True}) == 0


async def _async(value):
    return value


class RefusingBus:
    """The real bus, except that the broker refuses one kind of event (`times` times,
    or always) while the connection stays healthy (what an unroutable or rejected
    event looks like)."""

    def __init__(self, bus: EventBus, refused_type: str, times: int | None = None) -> None:
        self.bus, self.refused_type, self.times = bus, refused_type, times
        self.refusals = 0

    @property
    def connected(self) -> bool:
        return self.bus.connected

    async def publish(self, envelope) -> None:
        if envelope.type == self.refused_type and (self.times is None or self.refusals < self.times):
            self.refusals += 1
            raise RuntimeError("refused by the broker")
        await self.bus.publish(envelope)


async def test_an_event_the_broker_keeps_refusing_is_set_aside_and_the_rest_of_its_document_goes_out(settings, db):
    members = db["members"]
    await ensure_indexes(db, outbox_indexes("members"))
    member_id = str(uuid.uuid4())
    first, later = approved(member_id), updated(member_id)
    await members.insert_one(with_events({"_id": member_id}, first, later))
    received: list[str] = []
    listener = await consumer(settings, db, received)
    producer = make_bus(settings, "membership")
    await producer.start()
    relay = OutboxRelay(RefusingBus(producer, "member.approved"), [members], poll_seconds=0.05, max_tries=3)
    relay.start()
    try:
        # The first event is refused three times, then set aside; the later one is not held back.
        await eventually(lambda: _async(received == [later.id]), timeout=20, what="the later event delivered")
        aside = await relay.set_aside()
        assert [(a["event_id"], a["type"], a["tries"]) for a in aside] == [(first.id, "member.approved", 3)]
        assert "refused by the broker" in aside[0]["error"]
        relay.bus = producer  # the cause is mended: staff put the event back
        assert await relay.put_back() == 1
        await eventually(lambda: _async(sorted(received) == sorted([first.id, later.id])), what="put back and sent")
        assert await relay.set_aside() == []
    finally:
        await relay.stop()
        await producer.close()
        await listener.close()


async def test_a_broker_outage_sets_nothing_aside(settings, db):
    members = db["members"]
    await ensure_indexes(db, outbox_indexes("members"))
    member_id = str(uuid.uuid4())
    await members.insert_one(with_events({"_id": member_id}, approved(member_id)))
    producer = make_bus(settings, "membership")  # never started: as good as a broker that is down
    relay = OutboxRelay(producer, [members], max_tries=1)
    for _ in range(3):
        await members.update_one({"_id": member_id}, {"$set": {DUE: epoch()}})
        await relay.drain()
    assert await relay.set_aside() == []
    doc = await members.find_one({"_id": member_id})
    assert len(doc[EVENTS]) == 1 and doc[PENDING]


async def test_a_write_wakes_the_relay_for_its_own_collection_only(settings, monkeypatch):
    """A service's relay watches several outbox collections; the wake-up after a write
    reads only the collection written (the half-minute look reads them all)."""
    from pymongo import monitoring

    class Finds(monitoring.CommandListener):
        def __init__(self) -> None:
            self.collections: list[str] = []

        def started(self, event):
            if event.command_name == "find":
                self.collections.append(event.command["find"])

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    finds = Finds()
    import shared.service

    connect = shared.service.connect
    monkeypatch.setattr(shared.service, "connect", lambda url, listeners: connect(url, [*listeners, finds]))
    quiet = settings.model_copy(update={"outbox_poll_seconds": 60.0})
    received: list[str] = []
    async with ServiceRuntime(quiet, "membership", outbox=["members", "organizations", "schedule"]) as rt:
        listener = await consumer(quiet, rt.db, received)
        await rt.start()
        try:
            await eventually(lambda: _async(finds.collections), what="the relay's first look")
            first_look = sorted(finds.collections)
            finds.collections.clear()
            event = approved(str(uuid.uuid4()))
            await rt.db["members"].insert_one(with_events({"_id": "m", "name": "x"}, event))
            await eventually(lambda: _async(received == [event.id]), timeout=5, what="published")
            assert first_look == ["members", "organizations", "schedule"]
            assert set(finds.collections) == {"members"}
        finally:
            await listener.close()
            await rt.db.client.drop_database(rt.db.name)


async def test_a_refused_event_goes_out_when_its_back_off_ends_though_a_write_woke_the_relay_meanwhile(settings):
    """The relay looks on its own only every minute here: what brings the refused event
    back is the end of its back-off, which a wake-up for another write must not forget."""
    quiet = settings.model_copy(update={"outbox_poll_seconds": 60.0})
    received: list[str] = []
    async with ServiceRuntime(quiet, "membership", outbox=["members"]) as rt:
        refusing = RefusingBus(rt.bus, "member.approved", times=1)
        rt.relay.bus = refusing
        listener = await consumer(quiet, rt.db, received)
        await rt.start()
        try:
            refused = approved("refused")
            await rt.db["members"].insert_one(with_events({"_id": "refused"}, refused))
            await eventually(lambda: _async(refusing.refusals == 1), timeout=5, what="refused once")
            back_off_ends = (await rt.db["members"].find_one({"_id": "refused"}))[DUE]

            other = updated("other")  # another write, inside the back-off: it wakes the relay
            await rt.db["members"].insert_one(with_events({"_id": "other"}, other))
            await eventually(lambda: _async(other.id in received), timeout=5, what="the other event published")
            assert epoch() < back_off_ends, "the wake-up came after the back-off: this test tested nothing"
            assert refused.id not in received, "tried again before its back-off ended"

            await eventually(
                lambda: _async(refused.id in received),
                timeout=back_off_ends - epoch() + 5,
                what="the refused event published when its back-off ended, not at the next look",
            )
        finally:
            await listener.close()
            await rt.db.client.drop_database(rt.db.name)


class FindFailsOnce:
    """Wraps a collection's `find` (the relay's read of what is pending): after `arm()`,
    the next read fails as a network blip or a primary stepping down would."""

    def __init__(self, collection) -> None:
        self.find, self.reads, self.failures, self.armed = collection.find, 0, 0, False
        collection.find = self._find

    def arm(self) -> None:
        self.armed = True

    def _find(self, *args, **kwargs):
        self.reads += 1
        if self.armed:
            self.armed, self.failures = False, self.failures + 1
            raise AutoReconnect("connection closed: the store stepped down")
        return self.find(*args, **kwargs)


async def test_events_written_just_before_a_failed_store_read_go_out_right_after(settings):
    """A wake-up's read fails once: the relay reads the written collection again at its
    next step (about a second later), not at the next look a minute later."""
    quiet = settings.model_copy(update={"outbox_poll_seconds": 60.0})
    received: list[str] = []
    async with ServiceRuntime(quiet, "membership", outbox=["members", "organizations"]) as rt:
        reads = FindFailsOnce(rt.relay.collections[0])
        listener = await consumer(quiet, rt.db, received)
        await rt.start()
        try:
            await eventually(lambda: _async(reads.reads >= 1), timeout=5, what="the relay's first look")
            reads.arm()
            event = approved("m")
            await rt.db["members"].insert_one(with_events({"_id": "m"}, event))
            await eventually(lambda: _async(received == [event.id]), timeout=5, what="published after the blip")
            assert reads.failures == 1
        finally:
            await listener.close()
            await rt.db.client.drop_database(rt.db.name)


async def test_events_left_behind_go_out_right_after_the_first_look_fails(settings):
    """Events a crashed process left behind are found by the look the relay makes when it
    starts; if that read fails once, the next step looks again instead of waiting a minute."""
    quiet = settings.model_copy(update={"outbox_poll_seconds": 60.0})
    received: list[str] = []
    async with ServiceRuntime(quiet, "membership", outbox=["members"]) as rt:
        left_behind = approved("m")
        crashed = connect(quiet.mongo_url)  # another process's write: it wakes nobody here
        await crashed[rt.db.name]["members"].insert_one(with_events({"_id": "m"}, left_behind))
        await crashed.close()
        reads = FindFailsOnce(rt.relay.collections[0])
        reads.arm()
        listener = await consumer(quiet, rt.db, received)
        await rt.start()
        try:
            await eventually(lambda: _async(received == [left_behind.id]), timeout=5, what="published after the blip")
            assert reads.failures == 1
        finally:
            await listener.close()
            await rt.db.client.drop_database(rt.db.name)
