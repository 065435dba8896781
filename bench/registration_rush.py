"""The registration rush: N concurrent registration attempts for a few seats through
the events service's HTTP API, beside the raw rate of the same atomic seat update on
the same store in the same run.

    .venv/bin/python bench/registration_rush.py                 # 5,000 attempts, 500 seats
    .venv/bin/python bench/registration_rush.py --attempts 1000 --seats 100 --server inline

The service runs as its own process (`python -m services.events`, as in production;
`--server inline` runs it inside this process instead) on the embedded store (or
MONGO_URL) and the local RabbitMQ; a sink consumer stands in for notifications so
every announcement is routed. Every attempt is a different guest; `--connections`
of them are in flight at once (the rest wait their turn, as behind a gateway).

Reported: confirmed, waitlisted and duplicate counts (duplicates must be 0, and the
event's counters must match the registrations stored), attempts per second, p50/p95
latency of an attempt once sent, and the raw rate of the seat ledger's one atomic
update (`find_one_and_update` with `seats_free > 0` → `$inc`) with the same
concurrency on the same store. Each registration costs more than that one update:
the update (shared by the registrations that arrive together), one insert of the
registration with its event (outbox), then the relay's publish and cleanup. With
`--server inline` the store commands the service sends are counted on the wire
(PyMongo's command monitoring) and reported per attempt, by command and collection.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web
from measuring import CommandTally, percentile
from pymongo import ReturnDocument, monitoring

from deploy.local.broker import ensure_broker
from deploy.local.embedded_store import free_port, mongo_url_for
from shared.bus import EventBus
from shared.identity import HEADER, Identity, sign
from shared.logging import configure_logging
from shared.mongo import connect
from shared.settings import Settings

AMQP = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
TYPES = ["event.published", "registration.confirmed", "registration.waitlisted", "registration.promoted"]


COMMANDS = CommandTally()  # registered when the service runs in this process (--server inline)


async def raw_ledger_rate(mongo_url: str, run: str, attempts: int, seats: int, connections: int) -> float:
    """The seat ledger's single atomic update alone, with the same concurrency, same store."""
    client = connect(mongo_url)
    events = client[f"bench_raw_{run}"]["events"]
    await events.insert_one({"_id": "e", "status": "published", "seats_free": seats, "confirmed": 0, "waiting": 0})
    gate = asyncio.Semaphore(connections)

    async def one() -> None:
        async with gate:
            await events.find_one_and_update(
                {"_id": "e", "status": "published", "seats_free": {"$gt": 0}, "waiting": 0},
                {"$inc": {"seats_free": -1, "confirmed": 1}},
                return_document=ReturnDocument.AFTER,
            )

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(attempts)))
        rate = attempts / (time.perf_counter() - started)
        doc = await events.find_one({"_id": "e"})
        assert doc is not None and doc["confirmed"] == seats and doc["seats_free"] == 0, doc
        return rate
    finally:
        await client.drop_database(f"bench_raw_{run}")
        await client.close()


async def raw_registration_rate(mongo_url: str, run: str, attempts: int, seats: int, connections: int) -> float:
    """The two writes a registration needs (the seat update, then the registration with its
    event) with nothing else: the store's ceiling for the rush, same concurrency."""
    from services.events.store import INDEXES, REGISTRATIONS
    from shared.mongo import ensure_indexes
    from shared.outbox import outbox_indexes

    client = connect(mongo_url)
    db = client[f"bench_raw2_{run}"]
    await ensure_indexes(db, [i for i in INDEXES if i.collection == REGISTRATIONS] + outbox_indexes(REGISTRATIONS))
    await db.events.insert_one(
        {"_id": "e", "status": "published", "seats_free": seats, "confirmed": 0, "waiting": 0, "waitlist_seq": 0}
    )
    gate = asyncio.Semaphore(connections)
    payload = "x" * 1500  # about the size of one announcement

    async def one(i: int) -> None:
        async with gate:
            after = await db.events.find_one_and_update(
                {"_id": "e", "status": "published", "seats_free": {"$gt": 0}, "waiting": 0},
                {"$inc": {"seats_free": -1, "confirmed": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if after is None:
                after = await db.events.find_one_and_update(
                    {"_id": "e", "status": "published"},
                    {"$inc": {"waiting": 1, "waitlist_seq": 1}},
                    return_document=ReturnDocument.AFTER,
                )
            await db[REGISTRATIONS].insert_one(
                {
                    "_id": uuid.uuid4().hex,
                    "event_id": "e",
                    "holder_email": f"e|{i}@x.vn",
                    "status": "waitlisted",
                    "wait_seq": after["waitlist_seq"] if after else 0,
                    "_outbox": {"k": payload},
                    "_outbox_pending": True,
                    "_outbox_due": 0.0,
                    "_outbox_rev": 1,
                }
            )

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(attempts)))
        return attempts / (time.perf_counter() - started)
    finally:
        await client.drop_database(f"bench_raw2_{run}")
        await client.close()


class Servers:
    """Replicas of the events service, as processes (default) or one inside this process."""

    def __init__(self, settings: Settings, mode: str, replicas: int) -> None:
        self.settings, self.mode = settings, mode
        self.ports = [free_port() for _ in range(replicas if mode == "process" else 1)]
        self.processes: list[subprocess.Popen] = []
        self.runner: web.AppRunner | None = None

    async def __aenter__(self) -> Servers:
        if self.mode == "process":
            for port in self.ports:
                env = {
                    **os.environ,
                    "MONGO_URL": self.settings.mongo_url,
                    "AMQP_URL": self.settings.amqp_url,
                    "MONGO_DB_PREFIX": self.settings.mongo_db_prefix,
                    "BUS_EXCHANGE": self.settings.bus_exchange,
                    "BUS_QUEUE_PREFIX": self.settings.bus_queue_prefix,
                    "EVENTS_PORT": str(port),
                    "INTERNAL_IDENTITY_SECRET": self.settings.internal_identity_secret,
                    "LOG_LEVEL": "WARNING",
                }
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "services.events"], env=env, cwd=Path(__file__).resolve().parents[1]
                    )
                )
        else:
            from services.events.app import create_app

            monitoring.register(COMMANDS)  # the service's client is made below, in this process
            self.runner = web.AppRunner(create_app(self.settings), access_log=None)
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.ports[0]).start()
        for url in self.urls:
            await self._ready(url)
        return self

    async def _ready(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(f"{url}/readyz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError("the events service did not become ready")

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    async def __aexit__(self, *exc) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)
        if self.runner is not None:
            await self.runner.cleanup()


async def rush(args, mongo_url: str, run: str) -> dict:
    settings = Settings(
        mongo_url=mongo_url,
        amqp_url=AMQP,
        mongo_db_prefix=f"bench{run}",
        bus_exchange=f"bench.{run}",
        bus_queue_prefix=f"bench.{run}.",
        internal_identity_secret=f"bench-{run}-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        log_level="WARNING",
    )
    client = connect(mongo_url)
    db = client[settings.database("events")]
    await db["organizations"].insert_one({"_id": "org-lhh", "code": "LHH", "code_key": "lhh", "name": "LHH"})
    sink = EventBus(
        url=AMQP,
        exchange=settings.bus_exchange,
        service="sink",
        queue_prefix=settings.bus_queue_prefix,
        prefetch=256,
        retry_delays=[1.0],
    )
    heard = 0

    async def count(envelope, data) -> None:
        nonlocal heard
        heard += 1

    sink.subscribe("all", TYPES, count)
    await sink.start()
    admin = {HEADER: ""}
    partner = {HEADER: ""}

    def refresh() -> None:  # identities expire after a minute
        admin[HEADER] = sign(Identity(sub="staff:bench", roles=("admin",)), settings.internal_identity_secret)
        partner[HEADER] = sign(
            Identity(sub="key:bench", scopes=("registrations:write",)), settings.internal_identity_secret
        )

    refresh()
    try:
        async with (
            Servers(settings, args.server, args.replicas) as servers,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.connections)) as http,
        ):
            start = datetime.now(UTC) + timedelta(days=10)
            body = {
                "kind": "conference",
                "title": {"vi": "Hội nghị khoa học thường niên"},
                "organizer": "LHH",
                "venue": "Trung tâm Hội nghị tỉnh",
                "capacity": args.seats,
                "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=8)).isoformat()}],
            }
            first = servers.urls[0]
            async with http.post(f"{first}/events", json=body, headers=admin) as resp:
                event = await resp.json()
            async with http.post(f"{first}/events/{event['id']}/publish", headers=admin) as resp:
                assert resp.status == 200, await resp.text()

            gate = asyncio.Semaphore(args.connections)
            latencies: list[float] = []
            statuses: dict[str, int] = {}

            async def attempt(i: int) -> None:
                guest = {"guest": {"full_name": f"Đại biểu {i}", "email": f"daibieu{i}@example.vn"}}
                async with gate:
                    if i % 200 == 0:
                        refresh()  # the gateway signs a fresh identity; each lives a minute
                    sent = time.perf_counter()
                    url = servers.urls[i % len(servers.urls)]  # round robin, as a load balancer would
                    async with http.post(
                        f"{url}/events/{event['id']}/registrations", json=guest, headers=partner
                    ) as resp:
                        answer = await resp.json()
                    latencies.append(time.perf_counter() - sent)
                key = answer.get("status") if resp.status == 201 else f"http {resp.status}"
                statuses[key] = statuses.get(key, 0) + 1

            before = COMMANDS.snapshot()
            started = time.perf_counter()
            await asyncio.gather(*(attempt(i) for i in range(args.attempts)))
            elapsed = time.perf_counter() - started

            regs = db["registrations"]
            stored = await regs.find(
                {"event_id": event["id"]}, {"status": 1, "holder_email": 1, "ticket_code": 1, "wait_seq": 1}
            ).to_list()
            holders = [r.get("holder_email") for r in stored]
            tickets = [r["ticket_code"] for r in stored if r.get("ticket_code")]
            seqs = [r["wait_seq"] for r in stored if r["status"] == "waitlisted"]
            counters = await db["events"].find_one({"_id": event["id"]})
            expected = len(stored)
            deadline = time.monotonic() + 120
            while heard < expected + 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            drained = time.perf_counter() - started
            # What the bench itself reads next is not counted.
            commands = {
                f"{command} {collection}": n
                for (database, command, collection), n in (COMMANDS.snapshot() - before).items()
                if database == settings.database("events")
            }
            return {
                "elapsed": elapsed,
                "drained": drained,
                "statuses": statuses,
                "stored": len(stored),
                "confirmed": sum(1 for r in stored if r["status"] == "confirmed"),
                "waitlisted": sum(1 for r in stored if r["status"] == "waitlisted"),
                "duplicates": (len(holders) - len(set(holders)))
                + (len(tickets) - len(set(tickets)))
                + (len(seqs) - len(set(seqs))),
                "counters": tuple((counters or {}).get(k) for k in ("confirmed", "seats_free", "waiting")),
                "heard": heard,
                "latencies": latencies,
                "commands": commands,
            }
    finally:
        await sink.close()
        await client.drop_database(settings.database("events"))
        await client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=5000)
    parser.add_argument("--seats", type=int, default=500)
    parser.add_argument("--connections", type=int, default=100, help="attempts in flight at once")
    parser.add_argument("--server", choices=["process", "inline"], default="process")
    parser.add_argument("--replicas", type=int, default=1, help="service processes (with --server process)")
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    ensure_broker(AMQP)
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as folder, mongo_url_for(Path(folder)) as mongo_url:
        raw = await raw_ledger_rate(mongo_url, run, args.attempts, args.seats, args.connections)
        raw2 = await raw_registration_rate(mongo_url, run, args.attempts, args.seats, args.connections)
        result = await rush(args, mongo_url, run)
    rate = args.attempts / result["elapsed"]
    lat = result["latencies"]
    replicas = args.replicas if args.server == "process" else 1
    print(
        f"store: {'MONGO_URL' if os.environ.get('MONGO_URL') else 'embedded nx-27017'}; server: {args.server} "
        f"x{replicas}; "
        f"{args.attempts} attempts for {args.seats} seats, {args.connections} in flight"
    )
    print(f"answers:     {result['statuses']}")
    print(
        f"stored:      confirmed {result['confirmed']}, waitlisted {result['waitlisted']}, "
        f"duplicates {result['duplicates']}; event counters (confirmed, free, waiting) {result['counters']}"
    )
    print(
        f"rush:        {rate:8.0f} attempts/s  (p50 {1000 * statistics.median(lat):.0f} ms, "
        f"p95 {1000 * percentile(lat, 95):.0f} ms once sent)"
    )
    print(
        f"raw ledger:  {raw:8.0f} atomic seat updates/s on the same store "
        f"-> the rush runs at {100 * rate / raw:.0f}% of it"
    )
    print(
        f"raw writes:  {raw2:8.0f} registrations/s as bare store writes (seat update + insert), same store "
        f"-> the rush runs at {100 * rate / raw2:.0f}% of it"
    )
    print(
        f"announced:   {result['heard']} events heard by the sink; all published "
        f"{result['drained']:.1f} s after the rush began"
    )
    if args.server == "inline":
        per = {k: v / args.attempts for k, v in sorted(result["commands"].items(), key=lambda kv: -kv[1])}
        print(
            f"store cost:  {sum(per.values()):.2f} commands per attempt (raw ledger 1, raw writes 2): "
            + ", ".join(f"{k} {v:.2f}" for k, v in per.items())
        )
    else:
        print("store cost:  run with --server inline to count the service's store commands")
    ok = (
        result["confirmed"] == args.seats
        and result["waitlisted"] == args.attempts - args.seats
        and result["duplicates"] == 0
    )
    print("exactly the capacity confirmed, the rest waitlisted, no duplicates:", "yes" if ok else "NO")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
