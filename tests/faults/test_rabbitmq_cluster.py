"""A three-node RabbitMQ cluster with quorum queues: one node is killed in the middle
of a registration rush and a campaign, and nothing is lost, nothing sent twice, and
every consumer is back on the surviving nodes without a restart.

Membership, events and notifications run in this process (their own aiohttp apps),
connected to node 1; queue leaders are spread over the nodes (`queue_leader_locator =
balanced`), and the node killed is one that leads queues of the platform. Skipped,
with the reason, where Debian's rabbitmq-server is not installed. Bringing the
cluster up takes a minute or two: it runs in `make test` like the rest.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from deploy.local.embedded_store import free_port
from shared.identity import HEADER, Identity, sign
from shared.settings import Settings
from tests.faults import rabbit_cluster
from tests.faults.conftest import doubled, now, record
from tests.smtp_server import SmtpServer
from tests.support import eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),
]
MEMBERS, SEATS, GUESTS, AT_ONCE = 20, 15, 40, 4
SERVICES = ("membership", "events", "notifications")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # Never skipped: like the suite's own broker, the cluster's binaries are part of what
    # `make test` needs (.ci/run and `make run` install Debian's rabbitmq-server).
    if (missing := rabbit_cluster.available()) is not None:
        pytest.fail(f"the three-node RabbitMQ test cannot run: {missing} (apt-get install rabbitmq-server)")
    started = time.monotonic()
    running = rabbit_cluster.Cluster(tmp_path_factory.mktemp("rabbit"))
    try:
        running.start()
        record("3-node RabbitMQ cluster up and joined", startup_s=f"{time.monotonic() - started:.0f}")
        yield running
    finally:
        running.stop()


class InProcess:
    """Three services of the platform in this process, on the cluster's first node."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runners: list[web.AppRunner] = []

    async def start(self) -> None:
        from services.events.app import create_app as events_app
        from services.membership.app import create_app as membership_app
        from services.notifications.app import create_app as notifications_app

        for name, make in (
            ("membership", membership_app),
            ("events", events_app),
            ("notifications", notifications_app),
        ):
            runner = web.AppRunner(make(self.settings), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", getattr(self.settings, f"{name}_port")).start()
            self.runners.append(runner)

    async def stop(self) -> None:
        for runner in reversed(self.runners):
            await runner.cleanup()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{getattr(self.settings, f'{service}_port')}"

    def staff(self) -> dict[str, str]:
        identity = Identity(sub="staff:cluster-test", roles=("admin",))
        return {HEADER: sign(identity, self.settings.internal_identity_secret)}


@pytest.fixture
async def services(cluster, mongo_url) -> AsyncIterator[tuple[InProcess, SmtpServer]]:
    run = uuid.uuid4().hex[:8]
    with SmtpServer() as smtp:
        settings = Settings(
            mongo_url=mongo_url,
            mongo_db_prefix=f"qq{run}",
            amqp_url=cluster.nodes[0].url,
            bus_exchange=f"lienhiep.events.{run}",
            bus_queue_prefix=f"{run}.",
            bus_queue_type="quorum",
            bus_retry_delays="0.2,0.5,1",
            internal_identity_secret=f"cluster-{run}-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            email_rate_per_second=50,
            **{f"{name}_port": free_port() for name in SERVICES},  # type: ignore[arg-type]
        )
        platform = InProcess(settings)
        await platform.start()
        try:
            yield platform, smtp
        finally:
            await platform.stop()


async def test_a_node_killed_mid_rush_and_campaign_loses_nothing_doubles_nothing(cluster, services):
    platform, smtp = services
    tag = uuid.uuid4().hex[:6]
    members_at, guests_at = f"m{tag}.vn", f"g{tag}.vn"
    async with aiohttp.ClientSession() as http:

        async def call(service: str, method: str, path: str, **kw: Any) -> tuple[int | str, dict]:
            headers = {**platform.staff(), **kw.pop("headers", {})}
            try:
                async with http.request(
                    method,
                    f"{platform.url(service)}{path}",
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=30),
                    **kw,
                ) as resp:
                    return resp.status, await resp.json(content_type=None) or {}
            except (aiohttp.ClientError, TimeoutError) as exc:
                return type(exc).__name__, {}

        status, federation = await call(
            "membership", "POST", "/organizations", json={"code": f"LHH-{tag}", "name": "LHH", "kind": "federation"}
        )
        assert status == 201, federation
        code = f"HOI-{tag.upper()}"
        status, org = await call(
            "membership",
            "POST",
            "/organizations",
            json={"code": code, "name": "Hội", "kind": "association", "parent_id": federation["id"]},
        )
        assert status == 201, org
        for i in range(MEMBERS):
            status, _ = await call(
                "membership",
                "POST",
                "/members",
                json={"full_name": f"Hội viên {i}", "email": f"m{i}@{members_at}", "organization_ids": [org["id"]]},
            )
            assert status == 201
        await eventually(
            lambda: now(len(_to(smtp, members_at)) == MEMBERS),
            timeout=60,
            what="every member welcomed over the cluster",
        )
        start = datetime.now(UTC) + timedelta(days=10)
        event_body = {
            "kind": "conference",
            "title": {"vi": "Hội nghị"},
            "organizer": code,
            "venue": "Hội trường",
            "capacity": SEATS,
            "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=8)).isoformat()}],
        }

        async def event_created():
            status, event = await call("events", "POST", "/events", json=event_body)
            return event if status == 201 else None

        event = await eventually(event_created, timeout=30, what="the event created")
        assert (await call("events", "POST", f"/events/{event['id']}/publish"))[0] == 200

        marker = f"TM{tag}"
        status, campaign = await call(
            "notifications",
            "POST",
            "/notifications/campaigns",
            json={
                "name": marker,
                "segment": {"kind": "organization", "value": org["id"]},
                "channels": ["email"],
                "subject": f"Thư mời {marker}",
                "body": "Hội thảo khoa học tháng tới.",
            },
        )
        assert status == 201, campaign

        acknowledged: dict[str, dict] = {}
        gate = asyncio.Semaphore(AT_ONCE)

        async def register(i: int) -> None:
            async with gate:
                status, answer = await call(
                    "events",
                    "POST",
                    f"/events/{event['id']}/registrations",
                    headers={"Idempotency-Key": f"qq-{i}"},
                    json={"guest": {"full_name": f"Đại biểu {i}", "email": f"g{i}@{guests_at}"}},
                )
            if status in (200, 201):
                acknowledged[f"g{i}@{guests_at}"] = answer

        rush = asyncio.gather(*(register(i) for i in range(GUESTS)))
        await eventually(lambda: now(len(acknowledged) >= GUESTS // 4), timeout=60, what="the rush under way")
        victim = _leading_node(cluster, platform.settings.bus_queue_prefix)
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.kill, victim)
        await rush
        for i in range(GUESTS):  # callers retry what failed, with the same key
            for _ in range(40):
                if f"g{i}@{guests_at}" in acknowledged:
                    break
                await register(i)
                await asyncio.sleep(0.25)
        told = await eventually(
            lambda: now(_covers(_to(smtp, guests_at), acknowledged)), timeout=120, what="every registrant told"
        )
        campaigned = await eventually(
            lambda: now(_covers(_to(smtp, members_at, marker), {f"m{i}@{members_at}" for i in range(MEMBERS)})),
            timeout=120,
            what="the campaign to every member",
        )
        recovered = time.monotonic() - killed_at
        await asyncio.sleep(2)  # a late second copy would show now
        told, campaigned = _to(smtp, guests_at), _to(smtp, members_at, marker)
        welcomed = _to(smtp, members_at, "Chào mừng")
        survivors = [n for n in cluster.nodes if n is not victim]

        async def consumers_back() -> dict[str, dict] | None:
            found = await asyncio.to_thread(_queues, cluster, survivors[0], platform.settings.bus_queue_prefix)
            return found if found and all(q["consumers"] > 0 for q in found.values()) else None

        # A consumer whose channel the node's death closed comes back with it (robust
        # channels re-consume); on a loaded machine that may take some seconds.
        back = await eventually(consumers_back, timeout=60, interval=1.0, what="every work queue's consumer back")
        queues = back or {}
        status, counters = await call("events", "GET", f"/events/{event['id']}")
    confirmed = sum(1 for r in acknowledged.values() if r["status"] == "confirmed")
    record(
        "3-node RabbitMQ, one node kill -9 mid rush + campaign",
        acknowledged=len(acknowledged),
        present=len(told),
        lost=len(acknowledged) - len(set(acknowledged) & set(told)) + MEMBERS - len(campaigned),
        doubled=doubled(told) + doubled(campaigned) + doubled(welcomed),
        confirmed=f"{confirmed}/{SEATS}",
        queues_with_consumers=f"{sum(1 for q in queues.values() if q['consumers'] > 0)}/{len(queues)}",
        recovery_s=f"{recovered:.1f}",
    )
    assert len(acknowledged) == GUESTS and set(told) == set(acknowledged) and doubled(told) == 0, told
    assert len(campaigned) == MEMBERS and doubled(campaigned) == 0, campaigned
    assert doubled(welcomed) == 0
    assert confirmed == SEATS and counters["confirmed"] == SEATS
    # Every work queue has its consumer back, led by a surviving node.
    assert queues and all(q["type"] == "quorum" for q in queues.values()), queues
    assert all(q["consumers"] > 0 for q in queues.values()), queues
    assert all(q["leader"] != victim.name for q in queues.values()), queues


def _to(smtp: SmtpServer, domain: str, subject: str = ""):
    from collections import Counter

    counts: Counter[str] = Counter()
    for message in list(smtp.recorder.messages):
        to = str(message["To"]).lower()
        if to.endswith("@" + domain + ">") or to.endswith("@" + domain):
            if subject in str(message["Subject"]):
                counts[to.split("<")[-1].rstrip(">")] += 1
    return counts


def _covers(counts, expected) -> Any:
    return counts if set(expected) <= set(counts) else None


def _queues(cluster: rabbit_cluster.Cluster, node: rabbit_cluster.Node, prefix: str) -> dict[str, dict]:
    """The platform's work queues (not retry, parking or archive queues) with their type, leader and consumers."""
    out = cluster.ctl(node, "list_queues", "name", "type", "leader", "consumers", "--no-table-headers")
    queues = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[0].startswith(prefix):
            continue
        name, kind, leader, consumers = parts
        if ".retry." in name or name.endswith((".dead", ".archive")):  # the archive has no consumer, by design
            continue
        queues[name] = {"type": kind, "leader": leader, "consumers": int(consumers or 0)}
    return queues


def _leading_node(cluster: rabbit_cluster.Cluster, prefix: str) -> rabbit_cluster.Node:
    """A node other than the one the services are connected to that leads some of their queues."""
    queues = _queues(cluster, cluster.nodes[0], prefix)
    for node in cluster.nodes[1:]:
        if any(q["leader"] == node.name for q in queues.values()):
            return node
    raise AssertionError(f"no queue led by nodes 2 or 3: {queues}")
