"""A contest edition scored and ranked: N entries × J judges × 4 criteria, through the
contests service's HTTP API, beside the raw rate of the store in the same run.

    .venv/bin/python bench/contests.py                         # 2,000 entries, 5 judges each
    .venv/bin/python bench/contests.py --entries 200 --connections 8

The service runs inside this process (so a PyMongo CommandListener sees every
command its client sends) on the embedded store (or MONGO_URL) and the local
RabbitMQ (AMQP_URL). The edition is seeded through the API (entries submitted,
screened in, five judges seated, assignment), then every judge submits a sheet
for every entry, `--connections` at once, as judges would from their laptops.

Reported:
- sheets per second and p50/p95 latency of one submission;
- store commands per sheet (commands the service sent to its database while sheets were
  being submitted, divided by sheets: the request's own reads and writes, the entry's
  move to "scored" after its fifth sheet, and the outbox relay publishing that event),
  by command and collection, with what the service sends while idle (measured just
  before) subtracted;
- the ranking: the board's ranking request (all sheets read, every entry ranked
  with tiers and explanations), beside reading the same documents raw from the
  store and the pure ranking of the same inputs alone;
- the raw store: single-document `find_one_and_update` round trips per second at
  the same concurrency, same store, same run — the ceiling a sheet's writes share.

Measured 2026-12-03, `--entries 200 --connections 8` (1,000 sheets), on the shared 2-core
machine with other work beside it: 327 sheets/s, p50 22 ms, p95 39 ms; 5.32 store commands
per sheet (2 reads of sheets, the sheet's findAndModify, the edition's read, the entry's
findAndModify 1.2, the fifth sheet's event published by the relay 0.12), so 1,742
commands/s against the raw 3,823 find_one_and_update/s (46%); the ranking request 76 ms
with 13 commands, 9 of them getMores of sheets (raw read 54 ms, pure ranking 8 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web
from measuring import CommandTally, Key, breakdown, idle_rate, outbox_drained, per_operation, percentile
from pymongo import ReturnDocument, monitoring

from deploy.local.broker import ensure_broker
from deploy.local.embedded_store import EmbeddedStore, free_port
from services.contests.store import OUTBOX
from services.contests.timeline import ROUNDS
from shared.identity import HEADER, Identity, sign
from shared.logging import configure_logging
from shared.mongo import connect
from shared.settings import Settings

AMQP = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
JUDGES = ("an", "binh", "chi", "dung", "em", "giang", "hoa", "khanh")
CRITERIA = [("novelty", 30), ("applicability", 25), ("effectiveness", 25), ("presentation", 20)]


def timeline() -> dict[str, dict[str, str]]:
    now = datetime.now(UTC)
    return {
        r: {"opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=9)).isoformat()}
        for r in ROUNDS
    }


class Caller:
    def __init__(self, session: aiohttp.ClientSession, base: str, secret: str) -> None:
        self.session, self.base, self.secret = session, base, secret

    @staticmethod
    def who(sub: str, roles: tuple[str, ...] = (), scopes: tuple[str, ...] = ()) -> Identity:
        return Identity(sub=sub, roles=roles, scopes=scopes)

    async def __call__(self, method: str, path: str, who: Identity, expect: int = 200, **kw) -> dict:
        # Signed for each call, as the gateway does: a signed identity lives a minute.
        headers = {HEADER: sign(who, self.secret)}
        async with self.session.request(method, f"{self.base}{path}", headers=headers, **kw) as resp:
            body = await resp.json()
            if resp.status != expect:
                raise RuntimeError(f"{method} {path}: {resp.status} {body}")
            return body


async def gathered(coros, connections: int) -> list[float]:
    """Run the calls `connections` at a time; each one's latency in seconds."""
    gate = asyncio.Semaphore(connections)
    latencies: list[float] = []

    async def one(coro) -> None:
        async with gate:
            started = time.perf_counter()
            await coro
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one(c) for c in coros))
    return latencies


async def seed(call: Caller, entries: int, judges: int, connections: int) -> tuple[str, list[str]]:
    admin = call.who("staff:bench", ("admin",))
    website = call.who("key:website", (), ("contests:read", "contests:write"))
    edition = await call(
        "POST",
        "/contests/editions",
        admin,
        201,
        json={
            "code": "BENCH",
            "kind": "technical",
            "name": {"vi": "Hội thi đo tải"},
            "timeline": timeline(),
            "criteria": [{"code": c, "name": {"vi": c}, "max_points": m} for c, m in CRITERIA],
            "aggregation": "trimmed_mean",
            "judges_per_entry": judges,
            "min_judges": judges,
            "eligibility": {"applied_since": "2020-01-01"},
        },
    )
    ids: list[str] = []

    async def submit(n: int) -> None:
        entry = await call(
            "POST",
            f"/contests/editions/{edition['id']}/entries",
            website,
            201,
            json={
                "title": f"Giải pháp số {n} nâng cao hiệu quả sản xuất",
                "field": "it",
                "summary": "Tóm tắt giải pháp.",
                "applied_since": "2023-01-01",
                "entrant": {
                    "kind": "individual",
                    "authors": [{"full_name": f"Tác giả {n}", "email": f"tg{n}@example.vn"}],
                },
            },
        )
        ids.append(entry["id"])
        await call("POST", f"/contests/entries/{entry['id']}/screening", admin, json={"decision": "in"})

    await gathered([submit(n) for n in range(entries)], connections)
    for name in JUDGES[:judges]:
        await call(
            "PUT",
            f"/contests/editions/{edition['id']}/judges/{name}",
            admin,
            json={"full_name": name, "fields": ["it"]},
        )
    report = await call("POST", f"/contests/editions/{edition['id']}/assignments", admin, json={})
    assert report["assigned"] == entries * judges, report["shortfalls"][:3]
    return edition["id"], ids


async def raw_rate(mongo_url: str, run: str, operations: int, connections: int) -> float:
    """Single-document conditional updates by id, nothing else: the store's round-trip ceiling."""
    client = connect(mongo_url)
    docs = client[f"bench_raw_{run}"]["docs"]
    await docs.insert_many([{"_id": i, "n": 0} for i in range(100)])

    async def one(i: int) -> None:
        await docs.find_one_and_update(
            {"_id": i % 100, "n": {"$gte": 0}}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
        )

    try:
        started = time.perf_counter()
        await gathered([one(i) for i in range(operations)], connections)
        return operations / (time.perf_counter() - started)
    finally:
        await client.drop_database(f"bench_raw_{run}")
        await client.close()


async def bench(args: argparse.Namespace, mongo_url: str) -> None:
    run = uuid.uuid4().hex[:8]
    ensure_broker(AMQP)
    settings = Settings(
        mongo_url=mongo_url,
        amqp_url=AMQP,
        mongo_db_prefix=f"bench{run}",
        bus_exchange=f"lienhiep.bench.{run}",
        bus_queue_prefix=f"bench{run}.",
        internal_identity_secret=f"bench-{run}-{uuid.uuid4().hex}",
        development_mode=True,
        log_level="WARNING",
    )
    observer = connect(mongo_url)  # made before the tally is registered: its reads are not counted
    tally = CommandTally()
    monitoring.register(tally)  # before the service makes its client
    database = settings.database("contests")

    def contests_commands() -> Counter[Key]:
        """What has been sent to the service's database so far (the bench's own reads of it come after)."""
        return Counter({key: n for key, n in tally.snapshot().items() if key[0] == database})

    from services.contests.app import create_app

    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.connections * 2)) as session:
            call = Caller(session, f"http://127.0.0.1:{port}", settings.internal_identity_secret)
            started = time.perf_counter()
            edition_id, ids = await seed(call, args.entries, args.judges, args.connections)
            seeded = time.perf_counter() - started
            sheets = [(entry_id, name) for entry_id in ids for name in JUDGES[: args.judges]]

            def sheet(entry_id: str, name: str, k: int):
                scores = {c: round((m * (0.4 + 0.6 * ((k * 37 + len(name) * 11) % 97) / 97)), 2) for c, m in CRITERIA}
                return call(
                    "PUT",
                    f"/contests/judging/entries/{entry_id}/sheet",
                    call.who(f"staff:{name}", ("judge",)),
                    json={"scores": scores, "submit": True},
                )

            # Nothing asked of the service: what its loops (the outbox relay, …) send anyway.
            await outbox_drained(observer[database], OUTBOX)  # the seeding's events leave first
            before, started = contests_commands(), time.perf_counter()
            await asyncio.sleep(args.idle_seconds)
            idle = idle_rate(before, contests_commands(), time.perf_counter() - started)

            before, started = contests_commands(), time.perf_counter()
            latencies = await gathered([sheet(e, n, k) for k, (e, n) in enumerate(sheets)], args.connections)
            scoring = time.perf_counter() - started
            await outbox_drained(observer[database], OUTBOX)  # the relay's share of the work
            after = contests_commands()
            per_sheet = per_operation(before, after, idle, time.perf_counter() - started, len(sheets))
            raw_per_sheet = (after - before).total() / len(sheets)
            admin = call.who("staff:bench", ("admin",))
            timings = []
            before, started = contests_commands(), time.perf_counter()
            for _ in range(3):
                began = time.perf_counter()
                ranking = await call("GET", f"/contests/editions/{edition_id}/ranking", admin)
                timings.append(time.perf_counter() - began)
            ranking_commands = per_operation(before, contests_commands(), idle, time.perf_counter() - started, 3)
            assert len(ranking["items"]) == args.entries and all(i["complete"] for i in ranking["items"])
            pure = await pure_ranking_time(runner.app, edition_id)
            reading = await raw_read_time(mongo_url, settings.database("contests"), edition_id)
    finally:
        await runner.cleanup()
        await observer.close()
    raw = await raw_rate(mongo_url, run, min(20_000, len(sheets) * 2), args.connections)

    trips = sum(per_sheet.values())
    print(
        f"\nContest edition: {args.entries} entries × {args.judges} judges × {len(CRITERIA)} criteria "
        f"= {len(sheets)} score sheets ({args.connections} in flight; seeded through the API in {seeded:.1f} s)"
    )
    print(
        f"score sheets submitted:            {len(sheets) / scoring:8.0f} sheets/s   "
        f"p50 {1000 * statistics.median(latencies):.1f} ms, p95 {1000 * percentile(latencies, 95):.1f} ms"
    )
    print(
        f"store commands per score sheet:    {trips:8.2f}   ({breakdown(per_sheet)}; {raw_per_sheet:.2f} before "
        f"the idle polling, {sum(idle.values()):.1f}/s, is subtracted)"
    )
    print(f"  → store commands per second:    {trips * len(sheets) / scoring:8.0f}")
    print(f"raw store (find_one_and_update):   {raw:8.0f} round trips/s, same store, same concurrency")
    print(f"  → sheets use {100 * trips * len(sheets) / scoring / raw:.0f}% of the raw round-trip rate")
    print(
        f"board's ranking request:           {1000 * statistics.median(timings):8.0f} ms median of 3 "
        f"({sum(ranking_commands.values()):.0f} store commands each: {breakdown(ranking_commands, top=3)})"
    )
    print(
        f"  its sheets and entries read raw: {1000 * reading:8.0f} ms; the pure ranking of them: {1000 * pure:.0f} ms"
    )


async def raw_read_time(mongo_url: str, database: str, edition_id: str) -> float:
    """Reading what a ranking needs straight from the store (same projections), nothing else."""
    client = connect(mongo_url)
    db = client[database]
    try:
        started = time.perf_counter()
        await db.sheets.find(
            {"edition_id": edition_id, "status": "submitted"}, {"entry_id": 1, "judge": 1, "scores": 1}
        ).to_list()
        fields = {"code": 1, "title": 1, "field": 1, "board": 1, "votes": 1, "override": 1, "sheets_submitted": 1}
        await db.entries.find(
            {"edition_id": edition_id, "status": {"$in": ["screened_in", "scored"]}}, fields
        ).to_list()
        return time.perf_counter() - started
    finally:
        await client.close()


async def pure_ranking_time(app: web.Application, edition_id: str) -> float:
    """The scoring rules alone on this edition's inputs (no store, no HTTP)."""
    from services.contests import lifecycle, scoring
    from services.contests.app import DEPS
    from services.contests.ranking import RANKED_FIELDS, group_of, rules_of

    deps = app[DEPS]
    edition = await deps.edition(edition_id)
    entries = [e async for e in deps.entries.stream(edition_id, list(lifecycle.IN_COMPETITION), RANKED_FIELDS)]
    by_entry: dict[str, list[scoring.Sheet]] = {}
    for s in await deps.sheets.find(edition_id=edition_id, status="submitted"):
        by_entry.setdefault(s["entry_id"], []).append(scoring.Sheet(s["judge"], s["scores"]))
    candidates = [
        scoring.Candidate(e["_id"], e["code"], group_of(e, edition["rank_by"]), tuple(by_entry.get(e["_id"], ())))
        for e in entries
    ]
    started = time.perf_counter()
    scoring.rank(candidates, rules_of(edition))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--judges", type=int, default=5, choices=range(1, len(JUDGES) + 1))
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--idle-seconds", type=float, default=3.0, help="idle window whose polling is subtracted")
    args = parser.parse_args()
    configure_logging("bench", "WARNING")
    if os.environ.get("MONGO_URL"):
        asyncio.run(bench(args, os.environ["MONGO_URL"]))
        return
    with tempfile.TemporaryDirectory() as folder, EmbeddedStore(Path(folder)) as store:
        asyncio.run(bench(args, store.url))


if __name__ == "__main__":
    main()
