"""The bus against the real RabbitMQ: retries, parking, idempotency, reconnects."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.bus import EventBus, PermanentError, Unroutable
from shared.contracts import Envelope, MemberApproved, MemberErased, new_event
from shared.inbox import MongoInbox
from tests.support import PrivateVhost, eventually, rabbitmqctl
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration


def approved(name: str = "Nguyễn Văn An") -> Envelope:
    return new_event(
        MemberApproved(member_id=str(uuid.uuid4()), full_name=name, status="active"), producer="membership"
    )


async def test_a_published_event_reaches_its_handler(settings):
    seen: list[str] = []

    async def handler(envelope, data):
        seen.append(data.full_name)

    consumer = make_bus(settings)
    consumer.subscribe("welcome", ["member.approved"], handler)
    await consumer.start()
    producer = make_bus(settings, "producer")
    await producer.start()
    try:
        await producer.publish(approved("Trần Thị Bích"))
        await eventually(lambda: _async(seen), what="delivery")
        assert seen == ["Trần Thị Bích"]
        assert consumer.readiness() == (True, "ok")
    finally:
        await producer.close()
        await consumer.close()


async def test_an_event_nobody_listens_to_yet_is_kept_in_the_archive(settings):
    bus = make_bus(settings)
    await bus.start()
    try:
        event = approved()
        await bus.publish(event)  # nobody consumes member.approved here: not an error
        archived = await _archived(bus)
        assert [m.message_id for m in archived] == [event.id]
    finally:
        await bus.close()


async def test_without_the_archive_an_unroutable_event_is_an_error_not_a_silent_loss(settings):
    bus = make_bus(settings)
    await bus.start()
    try:
        channel = await bus._connection.channel()  # type: ignore[union-attr]
        await channel.queue_delete(bus.archive_queue_name)  # a broken topology
        await channel.close()
        with pytest.raises(Unroutable):
            await bus.publish(approved())
    finally:
        await bus.close()


async def _archived(bus: EventBus) -> list:
    """What the archive queue holds (read and put back)."""
    channel = await bus._connection.channel()  # type: ignore[union-attr]
    try:
        queue = await channel.declare_queue(bus.archive_queue_name, passive=True)
        held = []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            held.append(message)
        for message in held:
            await message.nack(requeue=True)
        return held
    finally:
        await channel.close()


async def test_a_failing_handler_is_retried_then_parked(settings):
    attempts: list[int] = []

    async def always_fails(envelope, data):
        attempts.append(1)
        raise RuntimeError("SMTP server down")

    bus = make_bus(settings)
    bus.subscribe("flaky", ["member.approved"], always_fails)
    await bus.start()
    try:
        event = approved()
        await bus.publish(event)
        sub = bus.subscription("flaky")
        await eventually(lambda: _async(sub.parked == 1), what="parking")
        assert len(attempts) == settings.bus_max_attempts == 3
        assert sub.retried == 2
        dead = await bus.dead_letters("flaky")
        assert [d["message_id"] for d in dead] == [event.id]
        assert "SMTP server down" in dead[0]["last_error"]
        # Listing leaves them parked; replay sends them back for another round.
        assert len(await bus.dead_letters("flaky")) == 1
        assert await bus.replay_dead("flaky") == 1
        await eventually(lambda: _async(sub.parked == 2), what="second parking after replay")
        assert len(attempts) == 6
    finally:
        await bus.close()


async def test_a_handler_that_recovers_is_not_parked(settings):
    calls: list[int] = []

    async def fails_once(envelope, data):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("temporary")

    bus = make_bus(settings)
    bus.subscribe("recovers", ["member.approved"], fails_once)
    await bus.start()
    try:
        await bus.publish(approved())
        sub = bus.subscription("recovers")
        await eventually(lambda: _async(sub.handled == 1), what="success after retry")
        assert len(calls) == 2 and sub.parked == 0
    finally:
        await bus.close()


async def test_poison_messages_are_parked_at_once_and_do_not_block_the_queue(settings):
    handled: list[str] = []

    async def handler(envelope, data):
        if data.full_name == "poison":
            raise PermanentError("cannot ever work")
        handled.append(data.full_name)

    bus = make_bus(settings)
    bus.subscribe("mixed", ["member.approved"], handler)
    await bus.start()
    try:
        # An invalid body (not an envelope) straight onto the exchange.
        import aio_pika

        await bus._exchange.publish(aio_pika.Message(b"{not json"), routing_key="member.approved")
        await bus.publish(approved("poison"))
        await bus.publish(approved("fine"))
        sub = bus.subscription("mixed")
        await eventually(lambda: _async(sub.parked == 2 and handled == ["fine"]), what="poison parked, good handled")
        assert sub.retried == 0
    finally:
        await bus.close()


async def test_a_duplicate_event_has_one_effect(settings, db):
    effects: list[str] = []

    async def handler(envelope, data):
        effects.append(envelope.id)

    bus = make_bus(settings, inbox=MongoInbox(db))
    bus.subscribe("once", ["member.approved"], handler)
    await bus.start()
    try:
        event = approved()
        for _ in range(3):  # e.g. the relay published it again after a crash
            await bus.publish(event)
        other = approved()
        await bus.publish(other)
        sub = bus.subscription("once")
        await eventually(lambda: _async(other.id in effects), what="second event")
        # Handled means the effect and its inbox record are both stored, then acknowledged.
        await eventually(lambda: _async(sub.handled == 2), what="both acknowledged")
        assert effects.count(event.id) == 1 and effects.count(other.id) == 1
        assert await db["inbox"].count_documents({"status": "done"}) == 2
    finally:
        await bus.close()


async def test_consumers_come_back_after_the_broker_drops_connections(settings, vhost: PrivateVhost):
    seen: list[str] = []

    async def handler(envelope, data):
        seen.append(envelope.id)

    bus = make_bus(settings)
    bus.subscribe("survivor", ["member.approved"], handler)
    await bus.start()
    try:
        first = approved()
        await bus.publish(first)
        await eventually(lambda: _async(first.id in seen), what="first delivery")

        await asyncio.to_thread(vhost.close_connections)
        await eventually(lambda: _async(not bus.readiness()[0]), timeout=10, what="bus notices the drop")
        await eventually(lambda: _async(bus.readiness()[0]), timeout=30, what="bus reconnects")

        second = approved()

        async def publish_when_back():
            try:
                await bus.publish(second)
                return True
            except Exception:
                return False

        await eventually(publish_when_back, timeout=30, what="publish after reconnect")
        await eventually(lambda: _async(second.id in seen), timeout=30, what="consumer resumed")
    finally:
        await bus.close()


async def test_close_waits_for_in_flight_handlers(settings):
    release = asyncio.Event()
    finished: list[str] = []

    async def slow(envelope, data):
        await release.wait()
        finished.append(envelope.id)

    bus = make_bus(settings)
    bus.subscribe("slow", ["member.approved"], slow)
    await bus.start()
    event = approved()
    await bus.publish(event)
    await eventually(lambda: _async(bus._inflight.count == 1), what="handler running")
    closing = asyncio.create_task(bus.close())
    await asyncio.sleep(0)  # let close() cancel the consumer
    assert not closing.done()
    release.set()
    await asyncio.wait_for(closing, 10)
    assert finished == [event.id]


async def _async(value):
    return value


async def test_an_event_type_a_subscription_retired_stops_reaching_its_queue_after_an_upgrade(settings):
    """The broker keeps a durable queue's bindings: the upgraded version unbinds what it dropped."""
    seen: list[str] = []

    async def handler(envelope, data):
        seen.append(envelope.type)

    before = make_bus(settings)
    before.subscribe("contacts", ["member.approved", "member.erased"], handler)
    await before.start()
    await before.close()

    after = make_bus(settings)
    after.subscribe("contacts", ["member.approved"], handler, retired=["member.erased"])
    await after.start()
    try:
        # Published in this order on one channel: had member.erased still been routed to the
        # queue, it would be queued, and handled, before member.approved.
        await after.publish(new_event(MemberErased(member_id=str(uuid.uuid4())), producer="membership"))
        await after.publish(approved())
        await eventually(lambda: _async("member.approved" in seen), what="the event still subscribed")
        assert seen == ["member.approved"]
    finally:
        await after.close()


async def test_a_broadcast_reaches_every_replica_and_their_queues_go_with_them(settings, db):
    seen: dict[str, list[str]] = {"a": [], "b": []}
    buses = []
    for replica in ("a", "b"):

        async def handler(envelope, data, replica=replica):
            seen[replica].append(envelope.id)

        bus = make_bus(settings, "gateway", inbox=MongoInbox(db))
        bus.subscribe("forget", ["member.approved"], handler, broadcast=True)
        await bus.start()
        buses.append(bus)
    assert buses[0].subscriptions[0].queue_name != buses[1].subscriptions[0].queue_name
    assert buses[0].parkable == []
    try:
        events = [approved(), approved()]
        for event in events:
            await buses[0].publish(event)
        ids = [e.id for e in events]
        await eventually(lambda: _async(seen["a"] == ids and seen["b"] == ids), what="both replicas heard both")
    finally:
        for bus in buses:
            await bus.close()


async def test_a_failing_broadcast_handler_is_neither_retried_nor_parked(settings):
    calls: list[str] = []

    async def failing(envelope, data):
        calls.append(envelope.id)
        raise RuntimeError("boom")

    bus = make_bus(settings, "gateway")
    bus.subscribe("forget", ["member.approved"], failing, broadcast=True)
    await bus.start()
    try:
        await bus.publish(approved())
        await eventually(lambda: _async(len(calls) == 1), what="handled once")
        later = approved()
        await bus.publish(later)  # the queue is not blocked by the failure
        await eventually(lambda: _async(calls[-1] == later.id), what="next message handled")
        assert len(calls) == 2 and bus.subscriptions[0].retried == 0 and bus.subscriptions[0].parked == 0
    finally:
        await bus.close()


async def test_listeners_hear_when_the_connection_comes_back(settings, vhost: PrivateVhost):
    back: list[bool] = []
    bus = make_bus(settings, "gateway")
    bus.subscribe("forget", ["member.approved"], _ignore, broadcast=True)
    bus.on_reconnect(lambda: back.append(True))
    await bus.start()
    try:
        await asyncio.to_thread(vhost.close_connections)
        await eventually(lambda: _async(bool(back)), timeout=30, what="reconnect heard")
        await eventually(lambda: _async(bus.readiness()[0]), timeout=30, what="consumer attached again")
    finally:
        await bus.close()


async def _ignore(envelope, data):
    return None


async def test_queues_are_quorum_queues_and_an_existing_classic_queue_is_kept_as_it_is(settings):
    classic = make_bus(settings, "svc")
    classic.queue_type = "classic"
    classic.subscribe("old", ["member.approved"], _noop)
    await classic.start()
    await classic.close()
    bus = make_bus(settings, "svc")
    bus.queue_type = "auto"  # the default outside tests: quorum on RabbitMQ 3.8+
    bus.subscribe("old", ["member.approved"], _noop)
    bus.subscribe("new", ["member.approved"], _noop)
    await bus.start()  # the classic queue from before does not stop the service
    try:
        assert bus.quorum
        kinds = {
            row.split("\t")[0]: row.split("\t")[1]
            for row in rabbitmqctl(
                "list_queues", "-p", _vhost(settings), "name", "type", "--no-table-headers"
            ).stdout.splitlines()
            if row
        }
        prefix = settings.bus_queue_prefix
        assert (
            kinds[f"{prefix}svc.new"] == kinds[f"{prefix}svc.new.dead"] == kinds[f"{prefix}svc.new.retry.0"] == "quorum"
        )
        assert kinds[f"{prefix}svc.old"] == "classic"
        event = approved()
        await bus.publish(event)
        assert bus.readiness() == (True, "ok")
    finally:
        await bus.close()


async def _noop(envelope, data):
    return None


def _vhost(settings) -> str:
    from urllib.parse import unquote

    return unquote(settings.amqp_url.rsplit("/", 1)[1])
