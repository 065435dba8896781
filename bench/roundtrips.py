"""Store round trips per business operation, counted on the wire of the real services.

    .venv/bin/python bench/roundtrips.py              # 50 operations each
    .venv/bin/python bench/roundtrips.py --ops 20 --idle-seconds 10

The six services (gateway, membership, events, notifications, contests, webhooks) run
inside this process as their own aiohttp apps on their own ports, on the embedded
store (or MONGO_URL) and a private vhost of the local RabbitMQ, with an SMTP sink.
A `pymongo.monitoring.CommandListener`, registered before the services make their
clients, counts every command each one sends (handshakes and heartbeats aside).

First the platform is left idle and its commands per second are measured; then each
operation is run `--ops` times through the gateway's API (as a partner would) and
followed to its end (the email handed to the SMTP server and recorded as sent), and
its commands are counted with the idle rate of the same window subtracted:

    create a member → welcome email sent            target ≤ 7
    register a guest → confirmation email sent      target ≤ 7
    a campaign message (email)                      target ≤ 1.5 per message
    an event through the bus to an idempotent consumer (outbox → relay → effect, the
    effect's own write keyed by the event being its claim: shared/projection.py, bus
    `idempotent` subscriptions)                   target ≤ 2.5 (the producer's own write aside)
    the same with an inbox claim (for effects that are not idempotent)   for comparison
    nothing happening, the whole platform           target ≤ 2 per second
    read a member with a partner's API key          for comparison (the issue measured ≈ 1.0)

Each row is printed with its breakdown by service, command and collection.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web
from measuring import CommandTally, Key, per_operation, percentile
from pymongo import monitoring

from deploy.local.broker import ensure_broker
from deploy.local.embedded_store import EmbeddedStore, free_port

AMQP = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PASSWORD = "roundtrips-admin-password"
SERVICES = ("membership", "events", "notifications", "contests", "webhooks", "gateway")

LISTENER = CommandTally()  # every command started by a client made after registration


@dataclass
class Row:
    label: str
    target: float | None  # None: shown for comparison
    unit: str
    per_op: float
    breakdown: dict[Key, float]
    raw: float = 0.0  # per operation, nothing subtracted
    seconds: float = 0.0  # the window measured
    note: str = ""  # what else was measured of it (latency)


def show(row: Row, prefix: str) -> None:
    if row.target is None:
        print(f"\n{row.label:<58} {row.per_op:6.2f} {row.unit:<12} (for comparison)")
    else:
        verdict = "ok" if row.per_op <= row.target else "OVER"
        print(f"\n{row.label:<58} {row.per_op:6.2f} {row.unit:<12} target ≤ {row.target:<4} {verdict}")
    if row.raw:
        print(f"    window {row.seconds:.1f} s; {row.raw:.2f} per operation before the idle polling is subtracted")
    if row.note:
        print(f"    {row.note}")
    by_service: dict[str, float] = {}
    for (db, _, _), value in row.breakdown.items():
        by_service[db.removeprefix(prefix)] = by_service.get(db.removeprefix(prefix), 0.0) + value
    print("    by service: " + ", ".join(f"{s} {v:.2f}" for s, v in sorted(by_service.items(), key=lambda x: -x[1])))
    for (db, command, collection), value in sorted(row.breakdown.items(), key=lambda x: -x[1]):
        print(f"      {value:6.2f}  {db.removeprefix(prefix):<14} {command:<16} {collection}")


class Platform:
    """The six services in this process, on their own ports."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.runners: list[web.AppRunner] = []

    async def start(self) -> None:
        from services.contests.app import create_app as contests_app
        from services.events.app import create_app as events_app
        from services.gateway.app import create_app as gateway_app
        from services.membership.app import create_app as membership_app
        from services.notifications.app import create_app as notifications_app
        from services.webhooks.app import create_app as webhooks_app

        makers: dict[str, Callable[[Any], web.Application]] = {
            "membership": membership_app,
            "events": events_app,
            "notifications": notifications_app,
            "contests": contests_app,
            "webhooks": webhooks_app,
            "gateway": gateway_app,
        }
        for name in SERVICES:
            runner = web.AppRunner(makers[name](self.settings), access_log=None)
            await runner.setup()
            port = getattr(self.settings, f"{name}_port")
            await web.TCPSite(runner, "127.0.0.1", port).start()
            self.runners.append(runner)

    async def stop(self) -> None:
        for runner in reversed(self.runners):
            await runner.cleanup()

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}/api/v1"


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done after {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def run(args: argparse.Namespace, mongo_url: str, amqp_url: str) -> list[Row]:
    from shared.logging import configure_logging
    from shared.mongo import connect
    from shared.settings import Settings
    from tests.smtp_server import SmtpServer

    configure_logging("roundtrips", "WARNING")
    run_id = uuid.uuid4().hex[:8]
    observer = connect(mongo_url)  # made before the listener: its own reads are not counted
    monitoring.register(LISTENER)
    smtp = SmtpServer()
    ports: dict[str, Any] = {f"{name}_port": free_port() for name in SERVICES}
    settings = Settings(
        mongo_url=mongo_url,
        mongo_db_prefix=f"rt{run_id}",
        amqp_url=amqp_url,
        bus_exchange=f"lienhiep.rt.{run_id}",
        bus_queue_prefix=f"rt{run_id}.",
        bus_queue_type="classic",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        internal_identity_secret=f"roundtrips-{run_id}-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        lienhiep_bootstrap_admin_password=PASSWORD,
        gateway_rate_per_second=1e6,
        gateway_rate_burst=1_000_000,
        gateway_argon2_time_cost=1,
        gateway_argon2_memory_kib=8192,
        log_level="WARNING",
        **ports,
    )
    prefix = f"rt{run_id}_"
    deliveries = observer[settings.database("notifications")]["deliveries"]
    platform = Platform(settings)
    rows: list[Row] = []
    async with AsyncExitStack() as stack:
        smtp.__enter__()
        stack.callback(smtp.__exit__, None, None, None)
        await platform.start()
        stack.push_async_callback(platform.stop)
        http = await stack.enter_async_context(aiohttp.ClientSession())

        async def call(method: str, path: str, **kw: Any) -> Any:
            async with http.request(method, f"{platform.gateway}{path}", headers=staff, **kw) as resp:
                body = await resp.json(content_type=None)
                if resp.status >= 300:
                    raise RuntimeError(f"{method} {path}: {resp.status} {body}")
                return body

        staff: dict[str, str] = {}
        async with http.post(f"{platform.gateway}/auth/login", json={"username": "admin", "password": PASSWORD}) as r:
            staff["Authorization"] = f"Bearer {(await r.json())['access_token']}"
        federation = await call("POST", "/organizations", json={"code": "LHH", "name": "LHH", "kind": "federation"})
        org = await call(
            "POST",
            "/organizations",
            json={"code": "HOI-RT", "name": "Hội", "kind": "association", "parent_id": federation["id"]},
        )

        async def sent(query: dict[str, Any], n: int) -> Callable[[], Awaitable[bool]]:
            base = await deliveries.count_documents({**query, "status": "sent"})
            return lambda: _at_least(deliveries, {**query, "status": "sent"}, base + n)

        async def create_members(n: int, tag: str) -> None:
            done = await sent({"notification": "welcome", "channel": "email"}, n)
            gate = asyncio.Semaphore(args.concurrency)

            async def one(i: int) -> None:
                async with gate:
                    await call(
                        "POST",
                        "/members",
                        json={
                            "full_name": f"Hội viên {i}",
                            "email": f"{tag}{i}@rt.vn",
                            "organization_ids": [org["id"]],
                        },
                    )

            await asyncio.gather(*(one(i) for i in range(n)))
            await until(done, "welcome emails")

        # Warm up (first requests build caches, the events service learns the organisation), then idle.
        await create_members(3, "warm")
        start = datetime.now(UTC) + timedelta(days=10)
        event_body = {
            "kind": "conference",
            "title": {"vi": "Hội nghị"},
            "organizer": "HOI-RT",
            "venue": "Hội trường",
            "capacity": 10_000,
            "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=8)).isoformat()}],
        }
        event = None
        deadline = time.monotonic() + 60
        while event is None:
            try:
                event = await call("POST", "/events", json=event_body)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        await call("POST", f"/events/{event['id']}/publish")

        async def register(n: int, tag: str) -> None:
            done = await sent({"notification": "registration_confirmed", "channel": "email"}, n)
            gate = asyncio.Semaphore(args.concurrency)

            async def one(i: int) -> None:
                async with gate:
                    await call(
                        "POST",
                        f"/events/{event['id']}/registrations",
                        json={"guest": {"full_name": f"Đại biểu {i}", "email": f"{tag}{i}@rt.vn"}},
                    )

            await asyncio.gather(*(one(i) for i in range(n)))
            await until(done, "confirmation emails")

        await register(3, "warm")
        await asyncio.sleep(args.settle)

        print(f"Idle: {args.idle_seconds:.0f} s with nothing happening…", flush=True)
        before, t0 = LISTENER.snapshot(), time.monotonic()
        await asyncio.sleep(args.idle_seconds)
        idle_window = time.monotonic() - t0
        idle = {k: v / idle_window for k, v in (LISTENER.snapshot() - before).items()}
        rows.append(Row("nothing happening: the whole platform", 2.0, "per second", sum(idle.values()), idle))

        async def measured(
            label: str, target: float | None, unit: str, n: int, action: Callable[[], Awaitable[None]]
        ) -> None:
            print(f"{label}: {n}…", flush=True)
            before, t0 = LISTENER.snapshot(), time.monotonic()
            await action()
            await asyncio.sleep(args.settle)  # what follows (the relay's clean-up, the inbox's completion)
            after, seconds = LISTENER.snapshot(), time.monotonic() - t0
            breakdown = per_operation(before, after, idle, seconds, n)
            raw = sum((after - before).values()) / n
            rows.append(Row(label, target, unit, sum(breakdown.values()), breakdown, raw, seconds))

        await measured(
            "create a member → welcome email sent", 7, "per member", args.ops, lambda: create_members(args.ops, "m")
        )
        await measured(
            "register a guest → confirmation email sent", 7, "per guest", args.ops, lambda: register(args.ops, "g")
        )

        async def campaign() -> None:
            members = args.ops + 3
            body = {
                "name": "Thư mời",
                "segment": {"kind": "organization", "value": org["id"]},
                "channels": ["email"],
                "subject": "Thư mời hội thảo",
                "body": "Hội thảo khoa học tháng tới.",
            }
            made = await call("POST", "/notifications/campaigns", json=body)
            await until(
                lambda: _at_least(deliveries, {"campaign_id": made["id"], "status": "sent"}, members), "campaign"
            )

        await measured("a campaign message (email)", 1.5, "per message", args.ops + 3, campaign)

        # A partner's read of one member with its API key (the "≈ 1.0" row).
        key = (await call("POST", "/admin/api-keys", json={"name": "roundtrips", "scopes": ["members:read"]}))["key"]
        listed = await call("GET", "/members", params={"limit": "50"})
        ids = [m["id"] for m in listed["items"]][: args.ops]

        async def read_members() -> None:
            for member_id in ids:
                async with http.get(f"{platform.gateway}/members/{member_id}", headers={"X-API-Key": key}) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"GET /members/{member_id}: {resp.status}")
                    await resp.read()

        if not ids:
            raise RuntimeError("no member to read: the members created above were not listed")
        await read_members()  # the key's first use is looked up once, then kept
        await measured("read a member (partner key)", None, "per read", len(ids), read_members)
    rows.append(await bus_event(args, mongo_url, amqp_url, run_id, claim_in_effect=True))
    rows.append(await bus_event(args, mongo_url, amqp_url, run_id, claim_in_effect=False))
    await observer.close()
    for row in rows:
        show(row, prefix)
    return rows


async def bus_event(
    args: argparse.Namespace, mongo_url: str, amqp_url: str, run_id: str, *, claim_in_effect: bool
) -> Row:
    """The shared mechanism every service uses: a write with its event (outbox), the relay's
    publish, a consumer whose handler writes one document keyed by the event. With
    `claim_in_effect` that write is its own claim (an `idempotent` subscription);
    without, the bus claims the event in the inbox first (what non-idempotent effects need)."""
    from shared.bus import EventBus
    from shared.contracts import MemberApproved, new_event
    from shared.inbox import INDEXES as INBOX_INDEXES
    from shared.inbox import MongoInbox
    from shared.mongo import connect, ensure_indexes
    from shared.outbox import OutboxRelay, outbox_indexes, with_events

    n = args.bus_events
    print(f"an event through the bus: {n}…", flush=True)
    client = connect(mongo_url)
    name = f"rt{run_id}_bus"
    db = client[name]
    await ensure_indexes(db, [*outbox_indexes("members"), *INBOX_INDEXES])
    handled = 0
    written: dict[str, float] = {}  # member id → when its write (with the event) was acknowledged
    arrived: dict[str, float] = {}  # member id → when the consumer's handler began

    async def handler(envelope: Any, data: Any) -> None:
        nonlocal handled
        arrived.setdefault(data.member_id, time.monotonic())
        await db["effects"].update_one({"_id": envelope.id}, {"$set": {"member_id": data.member_id}}, upsert=True)
        handled += 1

    async def write_one() -> str:
        member_id = str(uuid.uuid4())
        event = new_event(
            MemberApproved(member_id=member_id, full_name="Nguyễn Văn An", status="active"), producer="rt"
        )
        await db["members"].insert_one(with_events({"_id": member_id, "full_name": "Nguyễn Văn An"}, event))
        written[member_id] = time.monotonic()
        relay.notify()
        return member_id

    def latency(ids: list[str]) -> str:
        # A handler can begin before the writer resumes after the acknowledgement: that is 0.
        ms = [max(0.0, arrived[i] - written[i]) * 1000 for i in ids]
        return f"p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms"

    common: dict[str, Any] = dict(
        url=amqp_url, exchange=f"rt.bus.{run_id}", queue_prefix=f"rt{run_id}.bus.", prefetch=32, retry_delays=[1.0]
    )
    consumer = EventBus(service="consumer", inbox=MongoInbox(db), **common)
    consumer.subscribe("effect", ["member.approved"], handler, idempotent=claim_in_effect)
    await consumer.start()
    producer = EventBus(service="producer", **common)
    await producer.start()
    relay = OutboxRelay(producer, [db["members"]])
    relay.start()
    try:
        await asyncio.sleep(1)
        before, t0 = LISTENER.snapshot(), time.monotonic()
        burst = [await write_one() for _ in range(n)]  # one business write at a time, as requests make them
        await until(lambda: _true(handled >= n), "bus events handled")
        await asyncio.sleep(args.settle)
        elapsed = time.monotonic() - t0
        window = LISTENER.snapshot() - before
        idle_seconds = 3.0
        b2, t2 = LISTENER.snapshot(), time.monotonic()
        await asyncio.sleep(idle_seconds)
        idle = {k: v / (time.monotonic() - t2) for k, v in (LISTENER.snapshot() - b2).items()}
        window[(name, "insert", "members")] -= n  # the producer's own write is the operation, not its cost
        breakdown = per_operation(Counter(), window, idle, elapsed, n)
        raw = sum(window.values()) / n
        # From the write's acknowledgement to the consumer (an upper bound on leaving the outbox,
        # target 100 ms): in the burst above, and for events that each come after a quiet spell.
        alone = []
        for _ in range(20):
            await asyncio.sleep(0.3)
            alone.append(await write_one())
            await until(lambda: _true(alone[-1] in arrived), "a lone event handled")
        note = f"write → consumer: in the burst {latency(burst)}; one after a quiet spell {latency(alone)}"
        if claim_in_effect:
            label, target = "an event through the bus to an idempotent consumer", 2.5
        else:
            label, target = "  the same with an inbox claim (non-idempotent effects)", None
        return Row(label, target, "per event", sum(breakdown.values()), breakdown, raw, elapsed, note)
    finally:
        await relay.stop()
        await producer.close()
        await consumer.close()
        await client.drop_database(name)
        await client.close()


async def _at_least(collection: Any, query: dict[str, Any], n: int) -> bool:
    return await collection.count_documents(query) >= n


async def _true(value: bool) -> bool:
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=50, help="operations of each kind")
    parser.add_argument("--bus-events", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait after each operation's end")
    args = parser.parse_args()
    from tests.support import PrivateVhost

    ensure_broker(AMQP)
    vhost = PrivateVhost()
    vhost.create()
    root = AMQP.rstrip("/").rsplit("/", 1)[0] if AMQP.rstrip("/").count("/") > 2 else AMQP.rstrip("/")
    amqp_url = f"{root}/{vhost.name}"
    try:
        if os.environ.get("MONGO_URL"):
            rows = asyncio.run(run(args, os.environ["MONGO_URL"], amqp_url))
        else:
            with tempfile.TemporaryDirectory() as folder, EmbeddedStore(Path(folder) / "store") as store:
                rows = asyncio.run(run(args, store.url, amqp_url))
    finally:
        vhost.delete()
    print("\nstore commands per operation (idle polling subtracted; raw in brackets), beside the targets (issue 14):")
    for row in rows:
        raw = f"({row.raw:6.2f})" if row.raw else " " * 8
        target = "(for comparison)" if row.target is None else f"≤ {row.target}"
        print(f"  {row.label:<58} {row.per_op:6.2f} {raw} {row.unit:<12} {target}")
        if row.note:
            print(f"      {row.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
