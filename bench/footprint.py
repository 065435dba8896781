"""Footprint of each service under light load: resident memory and CPU of the service
processes of a running `make run`, read from /proc. The figures size the Kubernetes
requests and limits (deploy/k8s) and are written in docs/capacity.md.

    make run                                  # terminal 1 (any ports: the script finds the processes)
    .venv/bin/python bench/footprint.py       # terminal 2; --seconds 60 --rate 15 --import-rows 5000

It talks only to the gateway this checkout started (the port that process listens on), never
to another one on the machine, and only as the admin of `var/bootstrap-admin-password`
(or LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD), checked with one login before any other:
1. idle: samples every service for `--idle` seconds;
2. a login burst: five staff logins at once (argon2id, 64 MiB each, in threads);
3. light load for `--seconds` at `--rate` requests per second, one partner key: member
   creations (each one a welcome email: membership → bus → notifications → SMTP), member
   listings, event listings and guest registrations (each one a confirmation email);
4. a member import of `--import-rows` generated rows (CSV through the gateway, waited for),
   whose `member.updated` events the other services then consume.
For every service it prints RSS (idle, and the largest seen), VmHWM (the kernel's own peak),
and CPU in millicores (mean over the light load, mean over the import, and the busiest
one-second sample). Beside them: the requests answered per second against the rate asked
for, the import's rows per second, and the machine's cores.

Store commands per operation are not counted here: the services are `make run`'s
processes, not this script's, so no command listener is in them, and the embedded store
keeps no counters to read (its serverStatus has no opcounters). bench/roundtrips.py
counts them for the same operations (member creation, guest registration) on the real
services in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVICES = ("gateway", "membership", "events", "notifications", "contests", "webhooks")
TICK = os.sysconf("SC_CLK_TCK")


def service_processes(root: Path) -> dict[str, int]:
    """pid of each `python -m services.<name>` started from this checkout."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = (entry / "cwd").resolve()
        except OSError:
            continue
        for i, arg in enumerate(argv[:-1]):
            if arg == b"-m" and argv[i + 1].startswith(b"services.") and cwd == root:
                found[argv[i + 1].decode().removeprefix("services.")] = int(entry.name)
    return found


def listening_port(pid: int) -> int:
    """The TCP port process `pid` listens on (its own socket, not whoever holds a default port)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                return int(fields[1].rsplit(":", 1)[1], 16)
    raise RuntimeError(f"process {pid} listens on no TCP port")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


@dataclass
class Footprint:
    pid: int
    idle_rss: float = 0.0
    max_rss: float = 0.0
    hwm: float = 0.0
    idle_millicores: float = 0.0
    load_millicores: float = 0.0
    import_millicores: float = 0.0
    busiest_millicores: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (monotonic time, cpu seconds)


class Sampler:
    """Samples every service once a second in the background."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.prints = {name: Footprint(pid) for name, pid in pids.items()}

    def sample(self) -> None:
        now = time.monotonic()
        for fp in self.prints.values():
            rss, hwm = memory_mib(fp.pid)
            fp.max_rss, fp.hwm = max(fp.max_rss, rss), hwm
            fp.samples.append((now, cpu_seconds(fp.pid)))
            if len(fp.samples) >= 2:
                (t0, c0), (t1, c1) = fp.samples[-2:]
                fp.busiest_millicores = max(fp.busiest_millicores, 1000 * (c1 - c0) / (t1 - t0))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass
        self.sample()

    def mark(self) -> dict[str, tuple[float, float]]:
        now = time.monotonic()
        return {name: (now, cpu_seconds(fp.pid)) for name, fp in self.prints.items()}

    def millicores_since(self, mark: dict[str, tuple[float, float]]) -> dict[str, float]:
        now = time.monotonic()
        return {
            name: 1000 * (cpu_seconds(fp.pid) - mark[name][1]) / (now - mark[name][0])
            for name, fp in self.prints.items()
        }


async def expect(resp: aiohttp.ClientResponse, *statuses: int) -> dict:
    body = await resp.json(content_type=None)
    if resp.status not in statuses:
        raise RuntimeError(f"{resp.method} {resp.url.path}: {resp.status} {body}")
    return body


async def until_accepted(call, what: str, timeout: float = 30.0):
    """Retry `call` until it answers what it should (the events service learns organisations over the bus)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except RuntimeError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not accepted within {timeout}s") from None
            await asyncio.sleep(0.5)


async def main(args: argparse.Namespace) -> int:
    pids = service_processes(ROOT)
    if not pids:
        print(f"No service of {ROOT} is running: start `make run` first.", file=sys.stderr)
        return 1
    password = (
        os.environ.get("LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD")
        or (ROOT / "var" / "bootstrap-admin-password").read_text(encoding="utf-8").strip()
    )
    sampler = Sampler(pids)
    stop = asyncio.Event()
    background = asyncio.create_task(sampler.run(stop))
    if "gateway" not in pids:
        print(f"The gateway of {ROOT} is not running: start `make run` first.", file=sys.stderr)
        return 1
    api = f"http://127.0.0.1:{listening_port(pids['gateway'])}/api/v1"
    answered, failed = 0, 0
    try:
        print(
            f"Services: {', '.join(f'{n} (pid {p})' for n, p in sorted(pids.items()))}; idle {args.idle:.0f} s…",
            flush=True,
        )
        mark = sampler.mark()
        await asyncio.sleep(args.idle)
        for name, millicores in sampler.millicores_since(mark).items():
            fp = sampler.prints[name]
            fp.idle_millicores, fp.idle_rss = millicores, memory_mib(fp.pid)[0]

        async with aiohttp.ClientSession() as http:
            login = {"username": "admin", "password": password}
            # One login first: five wrong ones at once would lock the account.
            staff = {
                "Authorization": f"Bearer {(await expect(await http.post(f'{api}/auth/login', json=login), 200))['access_token']}"
            }
            await asyncio.sleep(7)  # a client address may log in 5 times at once, 10 a minute (GATEWAY_LOGIN_*)
            print("Login burst: five staff logins at once…", flush=True)
            for answer in await asyncio.gather(*(http.post(f"{api}/auth/login", json=login) for _ in range(5))):
                await expect(answer, 200)
            run = uuid.uuid4().hex[:6].upper()
            key = await expect(
                await http.post(
                    f"{api}/admin/api-keys",
                    headers=staff,
                    json={
                        "name": f"footprint {run}",
                        "scopes": [
                            "members:read",
                            "members:write",
                            "events:read",
                            "events:write",
                            "registrations:write",
                        ],
                    },
                ),
                201,
            )
            partner = {"X-API-Key": key["key"]}
            await organiser(http, api, staff, f"FP-{run}")
            starts = time.time() + 14 * 86400

            async def create_event() -> dict:
                return await expect(
                    await http.post(
                        f"{api}/events",
                        headers=staff,
                        json={
                            "kind": "seminar",
                            "title": {"vi": "Hội thảo đo tải", "en": "Footprint seminar"},
                            "organizer": f"FP-{run}",
                            "venue": "Hội trường",
                            "capacity": 100_000,
                            "sessions": [{"starts_at": _iso(starts), "ends_at": _iso(starts + 3 * 3600)}],
                        },
                    ),
                    201,
                )

            event = await until_accepted(create_event, "event creation")
            await expect(await http.post(f"{api}/events/{event['id']}/publish", headers=staff), 200)

            print(f"Light load: {args.rate:.0f} requests/s for {args.seconds:.0f} s…", flush=True)
            mark = sampler.mark()
            counter = 0

            async def one(n: int) -> None:
                nonlocal answered, failed
                kind = random.random()
                if kind < 0.2:
                    call = http.post(
                        f"{api}/members",
                        headers=partner,
                        json={"full_name": f"Nguyễn Văn Đo {n}", "email": f"do.{run.lower()}.{n}@example.vn"},
                    )
                elif kind < 0.4:
                    call = http.post(
                        f"{api}/events/{event['id']}/registrations",
                        headers=partner,
                        json={"guest": {"full_name": f"Khách {n}", "email": f"khach.{run.lower()}.{n}@example.vn"}},
                    )
                elif kind < 0.7:
                    call = http.get(f"{api}/members", headers=partner, params={"limit": "50"})
                else:
                    call = http.get(f"{api}/events", headers=partner)
                async with call as resp:
                    await resp.read()
                    if resp.status < 400:
                        answered += 1
                    else:
                        failed += 1

            began = time.monotonic()
            in_flight: set[asyncio.Task] = set()
            while (elapsed := time.monotonic() - began) < args.seconds:
                counter += 1
                task = asyncio.create_task(one(counter))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                await asyncio.sleep(max(0.0, counter / args.rate - elapsed))
            await asyncio.gather(*in_flight)
            seconds = time.monotonic() - began
            for name, millicores in sampler.millicores_since(mark).items():
                sampler.prints[name].load_millicores = millicores

            if args.import_rows:
                print(f"Member import: {args.import_rows} rows…", flush=True)
                mark = sampler.mark()
                imported, import_seconds = await import_members(http, api, staff, args.import_rows, f"FP-{run}")
                await asyncio.sleep(5)  # the consumers catch up with the import's events
                for name, millicores in sampler.millicores_since(mark).items():
                    sampler.prints[name].import_millicores = millicores
    finally:
        stop.set()
        await background

    cores = os.cpu_count()
    print(
        f"\nAnswered {answered / seconds:.1f} requests/s (asked {args.rate:.1f}; {failed} failed) "
        f"over {seconds:.0f} s; machine: {cores} cores."
    )
    if args.import_rows:
        print(f"Import: {imported} rows in {import_seconds:.1f} s ({imported / import_seconds:.0f} rows/s).")
    print(
        f"{'service':<14}{'RSS idle':>10}{'RSS max':>10}{'VmHWM':>10}{'CPU idle':>10}{'CPU load':>10}"
        f"{'CPU import':>12}{'CPU 1s max':>12}"
    )
    print(f"{'':<14}{'MiB':>10}{'MiB':>10}{'MiB':>10}{'mcores':>10}{'mcores':>10}{'mcores':>12}{'mcores':>12}")
    for name in [n for n in SERVICES if n in sampler.prints]:
        fp = sampler.prints[name]
        print(
            f"{name:<14}{fp.idle_rss:>10.0f}{fp.max_rss:>10.0f}{fp.hwm:>10.0f}{fp.idle_millicores:>10.0f}"
            f"{fp.load_millicores:>10.0f}{fp.import_millicores:>12.0f}{fp.busiest_millicores:>12.0f}"
        )
    return 0 if failed == 0 else 1


async def import_members(
    http: aiohttp.ClientSession, api: str, staff: dict, rows: int, organisation: str
) -> tuple[int, float]:
    """A generated members file (the import benchmark's) placed in `organisation`, imported and waited for."""
    # By name: mypy checks bench/ as loose files, and a static import would show it this one twice.
    generate = importlib.import_module("bench.membership_import").generate
    with tempfile.TemporaryDirectory() as folder:
        generated, placed = Path(folder) / "generated.csv", Path(folder) / "members.csv"
        generate(generated, rows, seed=random.randrange(1 << 30))
        with (
            open(generated, encoding="utf-8-sig", newline="") as src,
            open(placed, "w", encoding="utf-8-sig", newline="") as dst,
        ):
            writer = csv.writer(dst)
            prefix, base = random.choice(["091", "094", "098", "088", "086"]), random.randrange(10**7)
            for i, row in enumerate(csv.reader(src)):
                # unique addresses and numbers per run, so a second run imports rather than matches
                if i:
                    row[4], row[-1] = f"{organisation.lower()}.{i}@example.vn", organisation
                    row[5] = f"{prefix}{(base + i) % 10**7:07d}"
                writer.writerow(row)
        started = time.monotonic()
        with open(placed, "rb") as upload:
            async with http.post(
                f"{api}/members/imports",
                params={"wait": "true"},
                data=upload,
                headers={**staff, "Content-Type": "text/csv"},
                timeout=aiohttp.ClientTimeout(total=600),
            ) as resp:
                report = await expect(resp, 200, 202)
        elapsed = time.monotonic() - started
    if report.get("state") != "done" or report.get("rejected"):
        raise RuntimeError(
            f"import {report.get('state')}, {report.get('rejected')} rows rejected: {report.get('errors', [])[:3]}"
        )
    return int(report.get("created", 0)) + int(report.get("updated", 0)), elapsed


async def organiser(http: aiohttp.ClientSession, api: str, staff: dict, code: str) -> None:
    """An association to organise the event: under the federation (made first if there is none)."""
    async with http.get(f"{api}/organizations", headers=staff, params={"kind": "federation"}) as resp:
        federations = [o for o in (await expect(resp, 200))["items"] if o["kind"] == "federation"]
    if not federations:
        federations = [
            await expect(
                await http.post(
                    f"{api}/organizations",
                    headers=staff,
                    json={"code": "FP-LHH", "name": "Liên hiệp đo tải", "kind": "federation"},
                ),
                201,
            )
        ]
    await expect(
        await http.post(
            f"{api}/organizations",
            headers=staff,
            json={"code": code, "name": f"Hội đo tải {code}", "kind": "association", "parent_id": federations[0]["id"]},
        ),
        201,
    )


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=15.0, help="requests per second (one key allows 20)")
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--import-rows", type=int, default=20_000, help="rows of the member import (0: none)")
    sys.exit(asyncio.run(main(parser.parse_args())))
