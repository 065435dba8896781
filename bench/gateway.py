"""Gateway benchmark: an authenticated, rate-limit-checked GET through the gateway
versus the same request sent straight to the service, same run, same client.

    .venv/bin/python bench/gateway.py                 # or: --seconds 5 --concurrency 32

The request is GET /api/v1/members/{id} with a partner key (`X-API-Key`) through
the gateway: route match, key lookup (cached), two token buckets, authorisation,
query check, signed identity, proxy. Direct, it is GET /members/{id} on the
membership service with the signed identity the gateway would send. Both run as
real processes (`python -m services.…`) on the embedded store; the client is one
asyncio aiohttp session with keep-alive.

Figures: throughput with `--concurrency` requests in flight (ratio gateway/direct;
target ≥ 50%), and latency of one request at a time (p50/p99; added p50 target ≤ 1 ms).
Phases alternate (direct, gateway, direct, gateway) so drift hits both alike. Beside
the throughput, the store commands per request of both processes over the throughput
phases: each process runs through bench/counted_service.py (the service unchanged, a
command listener registered before it starts) and reports its count when signalled;
what the two send while idle is measured first and subtracted.

Measured 2026-12-03, `--seconds 3 --samples 200`, on the shared 2-core machine with other
work beside it: direct 1,832 req/s, through the gateway 1,253 req/s (68%); 1.00 store
command per request either way, membership's find of the member (the gateway sent none:
its key is cached, and one caller's traffic is a visit written once, not a write a
request); added p50 0.85 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collections import Counter

import aiohttp
from measuring import COMMANDS_DIR, Key, breakdown, counted_command, counts_of, idle_rate, per_operation

from deploy.local.broker import ensure_broker
from deploy.local.embedded_store import EmbeddedStore, free_port
from deploy.local.services import ServiceProcesses
from shared.identity import HEADER, Identity, sign

AMQP = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PASSWORD = "bench-admin-password"


async def throughput(
    session: aiohttp.ClientSession, url: str, headers: dict, seconds: float, concurrency: int
) -> tuple[int, float]:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            async with session.get(url, headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{url}: {resp.status}")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, time.perf_counter() - started


async def latencies(session: aiohttp.ClientSession, url: str, headers: dict, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        async with session.get(url, headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{url}: {resp.status}")
        out.append((time.perf_counter() - t) * 1000)
    return out


async def server_time(session: aiohttp.ClientSession, base: str, route: str) -> tuple[float, float]:
    """(seconds summed, requests) the server itself spent on `route`, from its /metrics."""
    async with session.get(f"{base}/metrics") as resp:
        text = await resp.text()
    found = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for kind in found:
            if line.startswith(f"lienhiep_http_request_duration_seconds_{kind}{{") and f'route="{route}"' in line:
                found[kind] = float(line.rsplit(" ", 1)[1])
    return found["sum"], found["count"]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: a cost the machine's load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    gateway: str,
    membership: str,
    gateway_metrics: str,
    secret: str,
    seconds: float,
    concurrency: int,
    samples: int,
    pids: dict[str, int],
    counted: Path,
    idle_seconds: float,
) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post(f"{gateway}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}) as resp:
            staff = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
        async with http.post(
            f"{gateway}/api/v1/admin/api-keys",
            headers=staff,
            json={"name": "bench", "scopes": ["members:read", "members:write"]},
        ) as resp:
            key = {"X-API-Key": (await resp.json())["key"]}
        async with http.post(
            f"{gateway}/api/v1/members", headers=key, json={"full_name": "Phan Văn Đo", "email": "bench@example.vn"}
        ) as resp:
            member_id = (await resp.json())["id"]
        via_gateway = (f"{gateway}/api/v1/members/{member_id}", key)
        prefix = key["X-API-Key"].split("_")[1]
        # What the gateway sends: the same identity, signed (re-signed per phase: it lives 60 s).
        who = Identity(sub=f"key:{prefix}", scopes=("members:read", "members:write"))

        def direct() -> tuple[str, dict]:
            return f"{membership}/members/{member_id}", {HEADER: sign(who, secret)}

        for url, headers in (via_gateway, direct()):  # warm up both paths
            await throughput(http, url, headers, 1.0, concurrency)

        async def commands() -> Counter[Key]:
            """Both processes' store commands so far."""
            total: Counter[Key] = Counter()
            for service, pid in pids.items():
                total += await counts_of(pid, counted, service)
            return total

        await asyncio.sleep(2.5)  # the warm-up's traffic counters are flushed (every 2 s)
        quiet, began = await commands(), time.perf_counter()
        await asyncio.sleep(idle_seconds)  # nothing asked: what the two processes' loops send anyway
        idle = idle_rate(quiet, await commands(), time.perf_counter() - began)
        sent: dict[str, Counter[Key]] = {"direct": Counter(), "gateway": Counter()}

        gw_route, svc_route = "/api/v1/members/{member_id}", "/members/{member_id}"
        spent = {"gateway": [0.0, 0.0], "membership": [0.0, 0.0]}
        cpu = {"direct": {k: 0.0 for k in pids}, "gateway": {k: 0.0 for k in pids}}
        counts = {"direct": [0, 0.0], "gateway": [0, 0.0]}
        lat: dict[str, list[float]] = {"direct": [], "gateway": []}
        for _ in range(2):
            for name in ("direct", "gateway"):
                url, headers = direct() if name == "direct" else via_gateway
                cpu_before = {k: cpu_seconds(pid) for k, pid in pids.items()}
                commands_before = await commands()
                n, elapsed = await throughput(http, url, headers, seconds, concurrency)
                for k, pid in pids.items():
                    cpu[name][k] += cpu_seconds(pid) - cpu_before[k]
                sent[name] += await commands() - commands_before
                counts[name][0] += n
                counts[name][1] += elapsed
                before = (
                    await server_time(http, gateway_metrics, gw_route),
                    await server_time(http, membership, svc_route),
                )
                lat[name] += await latencies(http, url, headers, samples)
                after = (
                    await server_time(http, gateway_metrics, gw_route),
                    await server_time(http, membership, svc_route),
                )
                if name == "gateway":  # one request at a time: no queueing inside the servers
                    for i, server in enumerate(("gateway", "membership")):
                        spent[server][0] += after[i][0] - before[i][0]
                        spent[server][1] += after[i][1] - before[i][1]

    per_request = {
        name: per_operation(Counter(), sent[name], idle, counts[name][1], int(counts[name][0])) for name in sent
    }
    gw_mean = spent["gateway"][0] / spent["gateway"][1] * 1000
    svc_mean = spent["membership"][0] / spent["membership"][1] * 1000
    rate = {name: n / elapsed for name, (n, elapsed) in counts.items()}
    p = {name: (pct(v, 0.50), pct(v, 0.99)) for name, v in lat.items()}
    print(f"\nGET one member, {concurrency} in flight, {2 * seconds:g} s per path:")
    print(f"  direct to membership : {rate['direct']:8.0f} req/s   (raw limit: the service alone)")
    print(f"  through the gateway  : {rate['gateway']:8.0f} req/s")
    print(f"  throughput ratio     : {rate['gateway'] / rate['direct']:8.1%}   (target ≥ 50%)")
    print(f"\nStore commands per request (idle polling, {sum(idle.values()):.1f}/s, subtracted):")
    for name in ("direct", "gateway"):
        by_service = {
            service: sum(v for (db, _, _), v in per_request[name].items() if db.endswith(f"_{service}"))
            for service in pids
        }
        print(
            f"  {name:<8}: {sum(per_request[name].values()):5.2f}  "
            f"(gateway {by_service['gateway']:.3f}, membership {by_service['membership']:.3f}: "
            f"{breakdown(per_request[name], top=4)})"
        )
    print(f"\nOne request at a time, {2 * samples} samples per path (ms):")
    print(
        f"  direct   p50 {p['direct'][0]:6.2f}  p99 {p['direct'][1]:6.2f}  mean {statistics.mean(lat['direct']):6.2f}"
    )
    print(
        f"  gateway  p50 {p['gateway'][0]:6.2f}  p99 {p['gateway'][1]:6.2f}  mean {statistics.mean(lat['gateway']):6.2f}"
    )
    print(
        f"  added    p50 {p['gateway'][0] - p['direct'][0]:6.2f}  p99 {p['gateway'][1] - p['direct'][1]:6.2f}"
        "   (target: ≤ 1 ms added at p50)"
    )
    per = {name: {k: v / counts[name][0] * 1000 for k, v in cpu[name].items()} for name in cpu}
    print("\nCPU time per request, from /proc (ms; not inflated by other load on the machine):")
    print(f"  direct : membership {per['direct']['membership']:5.2f}")
    print(
        f"  gateway: membership {per['gateway']['membership']:5.2f}  gateway {per['gateway']['gateway']:5.2f}"
        f"   → one gateway process serves up to {1000 / per['gateway']['gateway']:,.0f} req/s per core"
    )
    print("\nMean time inside the servers per gateway request, one at a time (their /metrics, ms):")
    print(
        f"  gateway, from first to last byte {gw_mean:6.2f}  of which membership {svc_mean:6.2f}"
        f"  → the gateway's own work and the hop {gw_mean - svc_mean:6.2f}"
    )


def wait_until_up(processes: ServiceProcesses, timeout: float) -> None:
    """Membership ready, the gateway answering (it is not "ready" without events and
    notifications, which this benchmark does not start)."""
    deadline = time.monotonic() + timeout
    for name, path in (("membership", "/readyz"), ("gateway", "/healthz")):
        while True:
            if processes.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see its log")
            try:
                with urllib.request.urlopen(f"{processes.url(name)}{path}", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not come up in {timeout} s")
            time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per throughput phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--samples", type=int, default=500, help="sequential requests per latency phase")
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="idle window whose polling is subtracted")
    args = parser.parse_args()
    ensure_broker(AMQP)
    run = uuid.uuid4().hex[:8]
    secret = f"bench-{run}-{uuid.uuid4().hex}"
    metrics_port = free_port()  # the gateway's /metrics without credentials, as a scraper reads it
    with tempfile.TemporaryDirectory() as folder, EmbeddedStore(Path(folder) / "store") as store:
        env = {
            "MONGO_URL": store.url,
            "MONGO_DB_PREFIX": f"bench{run}",
            "AMQP_URL": AMQP,
            "BUS_EXCHANGE": f"lienhiep.bench.{run}",
            "BUS_QUEUE_PREFIX": f"bench{run}.",
            "GATEWAY_PORT": str(free_port()),
            "GATEWAY_METRICS_PORT": str(metrics_port),
            "MEMBERSHIP_PORT": str(free_port()),
            "EVENTS_PORT": str(free_port()),
            "NOTIFICATIONS_PORT": str(free_port()),
            "INTERNAL_IDENTITY_SECRET": secret,
            "LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
            # Every request is still checked against its buckets; the limit is set above what the bench sends.
            "GATEWAY_RATE_PER_SECOND": "1000000",
            "GATEWAY_RATE_BURST": "1000000",
            "LOG_LEVEL": "WARNING",
            COMMANDS_DIR: folder,  # each process writes its store commands there when asked
        }
        # Each process counts the store commands it sends (bench/counted_service.py; the service is unchanged).
        processes = ServiceProcesses(env=env, log_folder=Path(folder) / "log", command=counted_command)
        processes.start(("membership", "gateway"))
        try:
            wait_until_up(processes, timeout=60)
            pids = {name: processes.processes[name].pid for name in ("gateway", "membership")}
            asyncio.run(
                measure(
                    processes.url("gateway"),
                    processes.url("membership"),
                    f"http://127.0.0.1:{metrics_port}",
                    secret,
                    args.seconds,
                    args.concurrency,
                    args.samples,
                    pids,
                    Path(folder),
                    args.idle_seconds,
                )
            )
        finally:
            processes.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
