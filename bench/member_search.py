"""Member name search benchmark: how long a search by name takes at 50,000 members on
the embedded store, beside a raw store read (one member by id) of the same run.

    .venv/bin/python bench/member_search.py               # 50,000 members
    .venv/bin/python bench/member_search.py --members 5000

Members are stored as the service stores them (services/membership/members.py:
folded name, word prefixes, sort key) with the members collection's indexes, then
each query is run as the service runs it (finding.member_query → MemberStore.page,
first page of 50 in name order) and timed; p50 and p95 are printed per query and
overall, with the store commands each search costs (PyMongo command monitoring).

What the embedded store serves (measured with this data, 2026-12-03): a search walks
the `sort_key` index and tests each member, so a search matching many members stops
early (15-40 ms) and one matching few reads every member (0.5-1.5 s at 50,000). An
index on an array of word prefixes does not help (nx-27017 indexes an array as one
value: `$in` on it is a scan), and neither does a collection of one document per
prefix keyed `"<prefix> <sort key>"` (a range on `_id` is a scan too: 6-17 s).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymongo import AsyncMongoClient, monitoring

from deploy.local.embedded_store import EmbeddedStore
from services.membership.finding import MemberFilter, member_query
from services.membership.members import new_member
from services.membership.store import INDEXES, MEMBERS, MemberStore
from shared.mongo import ensure_indexes

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Hữu", "Đức", "Thanh", "Ngọc", "Quốc", "Thu", "Hoài", "Gia", "Xuân"]
GIVEN = ["An", "Anh", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Khánh", "Lan", "Linh", "Long"]
GIVEN += ["Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến"]
QUERIES = ["ng van a", "tran thi", "hoa", "le minh tuan", "dang", "pham ngoc lan", "vo gia", "hoang xuan yen"]
TARGET_P95_MS = 50.0


class Counter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def members(n: int) -> list[Any]:
    rng = random.Random(14)
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        fields = {"full_name": name, "date_of_birth": date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1)}
        out.append(
            new_member(
                str(uuid.uuid4()), fields, status="active", by="staff:bench", now=now, consent_source="bench", years=1
            )
        )
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, count: int, rounds: int) -> None:
    counter = Counter()
    client: AsyncMongoClient = AsyncMongoClient(url, event_listeners=[counter])
    db = client["bench_member_search"]
    await db.drop_collection(MEMBERS)
    await ensure_indexes(db, [s for s in INDEXES if s.collection == MEMBERS])
    docs = members(count)
    began = time.perf_counter()
    for i in range(0, len(docs), 1000):
        await db[MEMBERS].insert_many(docs[i : i + 1000], ordered=False)
    print(f"{count:,} members stored in {time.perf_counter() - began:.1f} s")

    store = MemberStore(db)
    ids = [d["_id"] for d in random.Random(1).sample(docs, min(200, count))]
    raw: list[float] = []
    for member_id in ids:
        t = time.perf_counter()
        await store.get(member_id)
        raw.append((time.perf_counter() - t) * 1000)

    today = date.today()
    overall: list[float] = []
    print(f"\n{'query':<18} {'p50 ms':>8} {'p95 ms':>8} {'found':>6} {'commands':>9}")
    for q in QUERIES:
        times: list[float] = []
        found = 0
        before = counter.count
        for _ in range(rounds):
            t = time.perf_counter()
            page = await store.page(member_query(MemberFilter(q=q), today), limit=51, after=None)
            times.append((time.perf_counter() - t) * 1000)
            found = len(page)
        overall += times
        per_search = (counter.count - before) / rounds
        print(f"{q:<18} {statistics.median(times):8.1f} {percentile(times, 95):8.1f} {found:6d} {per_search:9.1f}")
    p95 = percentile(overall, 95)
    print(
        f"\nname search, all queries: p50 {statistics.median(overall):.1f} ms, p95 {p95:.1f} ms "
        f"(target p95 ≤ {TARGET_P95_MS:.0f} ms: {'met' if p95 <= TARGET_P95_MS else 'NOT met'})"
    )
    print(
        f"raw store read (one member by id), same run: p50 {statistics.median(raw):.2f} ms, "
        f"p95 {percentile(raw, 95):.2f} ms"
    )
    await db.drop_collection(MEMBERS)
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20, help="Times each query is run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as folder, EmbeddedStore(Path(folder)) as embedded:
        asyncio.run(measure(embedded.url, args.members, args.rounds))


if __name__ == "__main__":
    main()
