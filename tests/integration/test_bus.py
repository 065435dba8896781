"""The bus against the real RabbitMQ: retries, parking, idempotency, reconnects."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from shared.bus import EventBus, PermanentError, Unroutable
from shared.contracts import Envelope, MemberApproved, new_event
from shared.inbox import MongoInbox
from tests.support import PrivateVhost, eventually
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
        await eventually(lambda: db["inbox"].count_documents({}), what="inbox record")
        assert effects.count(event.id) == 1 and effects.count(other.id) == 1
        assert sub.handled == 2
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
