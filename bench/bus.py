"""Bus benchmark: events per second from outbox write to a consumer deduplicating through the inbox,
beside the raw aio-pika publish-and-consume rate on the same broker, same run.

    make bench            # or: .venv/bin/python bench/bus.py --events 5000

End to end, each event is: one insert carrying the event (outbox), the relay's
confirmed publish and its bulk "sent" update, the consumer's inbox claim, its
effect (an upsert keyed by event id) and the inbox completion, then the ack.
The raw rates are the same broker with nothing else (confirmed publish, consume,
ack) and the same store with nothing else (single-document inserts). The store
commands each event costs are counted on the wire (bench/measuring.py, the one
client the pipeline shares), the relay's idle polling (20 finds a second at
poll_seconds=0.05) measured afterwards and subtracted.

Measured 2026-12-03, 2,000 events, on the shared 2-core machine with other work beside
it: 551 events/s against 2,776 msg/s raw broker (20%) and 2,319 inserts/s raw store;
2.58 store commands per event (the outbox insert 1, the effect 1, inbox claims 0.31 and
completions 0.26: both go in bulk, a few events a command; the relay's "sent" update is one
a batch, and its reads of pending events vanish in the idle polling subtracted): at this
rate the store sends about 1,400 commands a second, so the store bounds it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aio_pika
from measuring import CommandTally, Key, breakdown, idle_rate, per_operation

from deploy.local.broker import ensure_broker
from deploy.local.embedded_store import mongo_url_for
from shared.bus import EventBus
from shared.contracts import MemberApproved, new_event
from shared.inbox import INDEXES as INBOX_INDEXES
from shared.inbox import MongoInbox
from shared.logging import configure_logging
from shared.mongo import connect, ensure_indexes
from shared.outbox import OutboxRelay, outbox_indexes, with_events

AMQP = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


async def raw_rate(n: int, run: str) -> float:
    """Confirmed publishes to one queue, consumed and acked: the broker's own ceiling here."""
    conn = await aio_pika.connect_robust(AMQP)
    try:
        pub = await conn.channel(publisher_confirms=True)
        sub = await conn.channel()
        await sub.set_qos(prefetch_count=64)
        queue = await sub.declare_queue(f"bench.raw.{run}", auto_delete=True)
        done = asyncio.Event()
        count = 0

        async def on_message(message):
            nonlocal count
            await message.ack()
            count += 1
            if count == n:
                done.set()

        await queue.consume(on_message)
        body = (
            new_event(MemberApproved(member_id="m", full_name="Nguyễn Văn An", status="active"), producer="bench")
            .model_dump_json()
            .encode()
        )
        started = time.perf_counter()
        for i in range(0, n, 200):
            await asyncio.gather(
                *(
                    pub.default_exchange.publish(aio_pika.Message(body), routing_key=queue.name)
                    for _ in range(min(200, n - i))
                )
            )
        await done.wait()
        return n / (time.perf_counter() - started)
    finally:
        await conn.close()


async def store_insert_rate(n: int, run: str, mongo_url: str) -> float:
    """Single-document inserts, 100 at a time: the store's own ceiling for outbox writes."""
    client = connect(mongo_url)
    collection = client[f"bench_raw_{run}"]["docs"]
    try:
        started = time.perf_counter()
        for i in range(0, n, 100):
            await asyncio.gather(
                *(
                    collection.insert_one({"_id": f"{i}-{j}", "full_name": "Nguyễn Văn An"})
                    for j in range(min(100, n - i))
                )
            )
        return n / (time.perf_counter() - started)
    finally:
        await client.drop_database(f"bench_raw_{run}")
        await client.close()


async def platform_rate(
    n: int, run: str, mongo_url: str, idle_seconds: float
) -> tuple[float, int, int, dict[Key, float], float, dict[Key, float]]:
    """Events per second end to end, and the store commands of each (the relay's idle polling subtracted)."""
    tally = CommandTally()
    client = connect(mongo_url, listeners=[tally])  # the one client producer, relay, inbox and handler share
    db = client[f"bench_{run}"]
    await ensure_indexes(db, [*outbox_indexes("members"), *INBOX_INDEXES])
    members, effects = db["members"], db["effects"]
    done = asyncio.Event()
    handled = 0

    async def handler(envelope, data):
        nonlocal handled
        # The effect, keyed by event id: a replay would overwrite, not add.
        await effects.update_one({"_id": envelope.id}, {"$set": {"member_id": data.member_id}}, upsert=True)
        handled += 1
        if handled == n:
            done.set()

    common: dict[str, Any] = dict(
        url=AMQP, exchange=f"bench.{run}", queue_prefix=f"bench.{run}.", prefetch=64, retry_delays=[1.0]
    )
    consumer = EventBus(service="consumer", inbox=MongoInbox(db), **common)
    consumer.subscribe("welcome", ["member.approved"], handler)
    await consumer.start()
    producer = EventBus(service="producer", **common)
    await producer.start()
    relay = OutboxRelay(producer, [members], poll_seconds=0.05, batch=500)
    relay.start()
    try:
        before, started = tally.snapshot(), time.perf_counter()
        for i in range(0, n, 100):
            batch = []
            for _ in range(min(100, n - i)):
                member_id = str(uuid.uuid4())
                event = new_event(
                    MemberApproved(member_id=member_id, full_name="Nguyễn Văn An", status="active"), producer="bench"
                )
                batch.append(members.insert_one(with_events({"_id": member_id, "full_name": "Nguyễn Văn An"}, event)))
            await asyncio.gather(*batch)
            relay.notify()
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1.0)  # what follows the last effect: its inbox completion, the relay's "sent" update
        after, window = tally.snapshot(), time.perf_counter() - started
        idle_before, idle_started = after, time.perf_counter()
        await asyncio.sleep(idle_seconds)  # nothing to do: what the relay and the consumer poll anyway
        idle = idle_rate(idle_before, tally.snapshot(), time.perf_counter() - idle_started)
        commands = per_operation(before, after, idle, window, n)
        raw = (after - before).total() / n
        return n / elapsed, await effects.count_documents({}), handled, commands, raw, idle
    finally:
        await relay.stop()
        await producer.close()
        await consumer.close()
        await client.drop_database(f"bench_{run}")
        await client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="idle window whose polling is subtracted")
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    ensure_broker(AMQP)
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as folder:
        with mongo_url_for(Path(folder)) as mongo_url:
            raw = await raw_rate(args.events, run)
            inserts = await store_insert_rate(args.events, run, mongo_url)
            e2e, effects, handled, commands, raw_commands, idle = await platform_rate(
                args.events, run, mongo_url, args.idle_seconds
            )
    print(f"store: {'MONGO_URL' if os.environ.get('MONGO_URL') else 'embedded nx-27017'}; events: {args.events}")
    print(f"raw aio-pika publish+consume (confirms, acks):   {raw:8.0f} msg/s")
    print(f"raw store single-document inserts:                {inserts:8.0f} docs/s")
    print(f"outbox -> relay -> broker -> consumer with the inbox: {e2e:8.0f} events/s ({100 * e2e / raw:.0f}% of raw)")
    print(
        f"store commands per event:                         {sum(commands.values()):8.2f} ({breakdown(commands)}; "
        f"{raw_commands:.2f} before the idle polling, {sum(idle.values()):.0f}/s, is subtracted)"
    )
    print(f"effects stored: {effects} (expected {args.events}); handler calls: {handled}")


if __name__ == "__main__":
    asyncio.run(main())
