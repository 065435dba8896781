"""Webhooks benchmark: how soon and how fast partners hear events, beside the raw limits
measured in the same run.

    make bench            # or: .venv/bin/python bench/webhooks.py --events 2000

The webhooks service runs as a real process (as `make run` starts it) on the embedded
store and the local broker; a partner's endpoint is an HTTP server in this process
that answers 200 at once. One endpoint listens to `member.approved`.

- latency: events published one at a time, each waited for: publish → the signed POST
  arriving at the endpoint (broker, fan-out write, claim, sign, post);
- throughput: a burst of events published at once, until every delivery arrived;
- store commands per delivery in the burst, counted inside the service's process
  (bench/counted_service.py: the service unchanged, a command listener registered before
  it starts, its count read on a signal), what it sends while idle subtracted;
- raw limits, same run: signed POSTs straight to the same endpoint from one client at the
  service's concurrency, a new connection each (as the service sends them); and the
  store's single-document insert rate. The embedded store answers one at a time, so the
  store bounds the rate: about its insert rate divided by the commands a delivery costs.

Measured 2026-12-03, `--events 1000 --samples 50`, on the shared 2-core machine with other
work beside it: 143 deliveries/s against 1,822 raw POSTs/s (8%) and 1,513 raw inserts/s;
4.29 store commands per delivery (the delivery's insert, keyed by the event so it is its
own claim and no inbox is used; the read of the listening endpoints' partner keys, not
revoked; the delivery's claim and its settling update: about 1 each; the member
projection's bulk writes 0.14, reads of due deliveries 0.11), so 352 deliveries/s is the
store's bound and the burst reached 41% of it; latency p50 18 ms, p95 26 ms.
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
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web
from measuring import COMMANDS_DIR, breakdown, counted_command, counts_of, idle_rate, per_operation

from deploy.local.broker import ensure_broker
from deploy.local.embedded_store import EmbeddedStore, free_port
from deploy.local.services import ServiceProcesses
from services.webhooks import signing
from shared.bus import EventBus
from shared.contracts import MemberApproved, new_event
from shared.identity import HEADER, Identity, sign
from shared.logging import configure_logging
from shared.mongo import connect
from shared.settings import Settings

AMQP = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
CONCURRENCY = 32


class Endpoint:
    """The partner: notes when each message id arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.count = 0
        self.all_in = asyncio.Event()
        self.expected = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        now = time.perf_counter()
        msg_id = request.headers.get("webhook-id", "")
        self.arrived.setdefault(msg_id, now)
        self.count += 1
        if msg_id in self.waiters and not self.waiters[msg_id].done():
            self.waiters[msg_id].set_result(now)
        if self.expected and len(self.arrived) >= self.expected:
            self.all_in.set()
        return web.Response(text="ok")


async def raw_post_rate(url: str, n: int) -> float:
    """Signed POSTs straight to the endpoint, CONCURRENCY at a time, a new connection each."""
    body = b'{"type":"member.approved","timestamp":"2026-12-01T00:00:00Z","data":{}}'
    secret = signing.derive_secret(b"k" * 32, "bench", "salt")
    connector = aiohttp.TCPConnector(force_close=True, limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with gate:
                headers = signing.headers([secret], f"msg_raw{i}", int(time.time()), body)
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started)


async def store_insert_rate(mongo_url: str, n: int) -> float:
    client = connect(mongo_url)
    name = f"bench_raw_{uuid.uuid4().hex[:8]}"
    try:
        started = time.perf_counter()
        for i in range(0, n, 100):
            await asyncio.gather(
                *(client[name]["docs"].insert_one({"_id": f"{i}-{j}", "x": 1}) for j in range(min(100, n - i)))
            )
        return n / (time.perf_counter() - started)
    finally:
        await client.drop_database(name)
        await client.close()


async def measure(
    settings: Settings,
    service_url: str,
    endpoint: Endpoint,
    url: str,
    n: int,
    samples: int,
    counted: tuple[int, Path],
    idle_seconds: float,
) -> dict:
    """Latency and burst rate; the store commands the service sent per delivery in the burst."""

    async def commands():
        return await counts_of(*counted, "webhooks")

    partner = Identity(sub="key:be4c4be4", scopes=("members:read", "webhooks:manage"))
    key = {HEADER: sign(partner, settings.internal_identity_secret)}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{service_url}/webhooks/endpoints",
            headers=key,
            json={"url": url + "/hooks", "event_types": ["member.approved"], "contact_email": "ops@bench.example.vn"},
        ) as resp:
            assert resp.status == 201, await resp.text()
    bus = EventBus(
        url=settings.amqp_url, exchange=settings.bus_exchange, service="bench", queue_prefix=settings.bus_queue_prefix
    )
    await bus.start()
    try:
        await asyncio.sleep(1.0)  # the endpoint's creation and its event are done with
        quiet, began = await commands(), time.perf_counter()
        await asyncio.sleep(idle_seconds)  # nothing asked: what the service's loops send anyway
        idle = idle_rate(quiet, await commands(), time.perf_counter() - began)
        latencies = []
        for i in range(samples):
            event = new_event(
                MemberApproved(member_id=f"l{i}", full_name="Nguyễn Văn An", status="active"), producer="bench"
            )
            msg_id = signing.message_id(event.id)
            endpoint.waiters[msg_id] = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            await bus.publish(event)
            arrived = await asyncio.wait_for(endpoint.waiters[msg_id], 30)
            latencies.append((arrived - started) * 1000)
        endpoint.expected = samples + n
        events = [
            new_event(MemberApproved(member_id=f"t{i}", full_name="Nguyễn Văn An", status="active"), producer="bench")
            for i in range(n)
        ]
        await asyncio.sleep(1.0)  # the last sample's delivery is settled
        before, started = await commands(), time.perf_counter()
        for i in range(0, n, 200):
            await asyncio.gather(*(bus.publish(e) for e in events[i : i + 200]))
        await asyncio.wait_for(endpoint.all_in.wait(), 600)
        rate = n / (time.perf_counter() - started)
        await asyncio.sleep(1.0)  # the last deliveries' settling writes
        after = await commands()
        per_delivery = per_operation(before, after, idle, time.perf_counter() - started, n)
    finally:
        await bus.close()
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p95": latencies[int(len(latencies) * 0.95) - 1],
        "max": latencies[-1],
        "rate": rate,
        "commands": per_delivery,
        "raw_commands": (after - before).total() / n,
        "idle": sum(idle.values()),
        "posts": endpoint.count,
        "distinct": len(endpoint.arrived),
    }


def private_vhost(name: str, create: bool) -> str:
    """A vhost of this run's own on the broker, deleted afterwards (nothing left behind)."""
    if create:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True, timeout=60)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    else:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)
    base = AMQP.rstrip("/")
    root = base.rsplit("/", 1)[0] if base.count("/") > 2 else base  # without any vhost of its own
    return f"{root}/{quote(name, safe='')}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="events in the throughput burst")
    parser.add_argument("--samples", type=int, default=200, help="events timed one at a time")
    parser.add_argument(
        "--per-endpoint",
        type=int,
        default=Settings().webhooks_endpoint_concurrency,
        help="deliveries at once to one endpoint",
    )
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="idle window whose polling is subtracted")
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    ensure_broker(AMQP)
    run = uuid.uuid4().hex[:8]
    vhost = f"lienhiep-bench-webhooks-{run}"
    amqp = private_vhost(vhost, create=True)
    endpoint = Endpoint()
    app = web.Application()
    app.router.add_post("/{tail:.*}", endpoint.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        store = None if os.environ.get("MONGO_URL") else EmbeddedStore(Path(folder) / "store").start()
        mongo_url = os.environ.get("MONGO_URL") or store.url  # type: ignore[union-attr]
        settings = Settings(
            mongo_url=mongo_url,
            mongo_db_prefix=f"bench{run}",
            amqp_url=amqp,
            bus_exchange=f"lienhiep.bench.{run}",
            bus_queue_prefix=f"bench{run}.",
            internal_identity_secret=f"bench-{run}-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            webhooks_port=free_port(),
            webhooks_allow_hosts="127.0.0.0/8",
            webhooks_concurrency=CONCURRENCY,
            webhooks_endpoint_concurrency=args.per_endpoint,
        )
        env = {
            name.upper(): str(getattr(settings, name))
            for name in (
                "mongo_url",
                "mongo_db_prefix",
                "amqp_url",
                "bus_exchange",
                "bus_queue_prefix",
                "internal_identity_secret",
                "webhooks_port",
                "webhooks_allow_hosts",
                "webhooks_concurrency",
                "webhooks_endpoint_concurrency",
            )
        }
        # The service counts the store commands it sends (bench/counted_service.py; the service is unchanged).
        processes = ServiceProcesses(
            env={**env, "LOG_LEVEL": "WARNING", COMMANDS_DIR: folder},
            log_folder=Path(folder) / "log",
            command=counted_command,
        )
        processes.start(("webhooks",))
        try:
            processes.wait_ready(timeout=120)
            counted = (processes.processes["webhooks"].pid, Path(folder))
            figures = await measure(
                settings,
                processes.url("webhooks"),
                endpoint,
                url,
                args.events,
                args.samples,
                counted,
                args.idle_seconds,
            )
            raw_http = await raw_post_rate(url + "/raw", args.events)
            inserts = await store_insert_rate(mongo_url, args.events)
        finally:
            processes.stop()
            if store is not None:
                store.stop()
            await runner.cleanup()
            private_vhost(vhost, create=False)
    print(
        f"store: {'MONGO_URL' if os.environ.get('MONGO_URL') else 'embedded nx-27017'}; one endpoint; "
        f"{args.per_endpoint} at once to it ({CONCURRENCY} per replica)"
    )
    print(
        f"latency, publish -> signed POST received ({args.samples} one at a time): "
        f"p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, max {figures['max']:.0f} ms"
    )
    print(f"webhook deliveries, burst of {args.events}:           {figures['rate']:8.0f} deliveries/s")
    print(
        f"raw signed POSTs to the same endpoint:          {raw_http:8.0f} posts/s "
        f"(deliveries reach {100 * figures['rate'] / raw_http:.0f}% of it)"
    )
    per_delivery = sum(figures["commands"].values())
    print(
        f"store commands per delivery:                    {per_delivery:8.2f} "
        f"({breakdown(figures['commands'])}; {figures['raw_commands']:.2f} before the idle polling, "
        f"{figures['idle']:.1f}/s, is subtracted)"
    )
    print(
        f"raw store single-document inserts:              {inserts:8.0f} docs/s "
        f"(/ {per_delivery:.1f} commands a delivery = {inserts / per_delivery:.0f}/s; "
        f"deliveries reach {100 * figures['rate'] * per_delivery / inserts:.0f}% of it)"
    )
    print(
        f"POSTs received: {figures['posts']} for {figures['distinct']} messages (expected {args.events + args.samples})"
    )


if __name__ == "__main__":
    asyncio.run(main())
