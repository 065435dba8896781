"""Expiry notices and lapses: announced 30 and 7 days before a term ends and the
member lapsed after it, each exactly once however many replicas run the sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.membership.api import USE_CASES
from services.membership.app import create_app
from services.membership.lifecycle import local_today
from services.membership.store import SCHEDULE
from shared.mongo import connect
from tests.support import eventually

pytestmark = pytest.mark.integration


def today():
    return local_today(datetime.now(UTC))


@pytest.fixture
def fast(settings):
    """Sweeps every 0.2 s, looked for every 0.05 s: many sweeps within one test."""
    return settings.model_copy(
        update={"membership_expiry_sweep_seconds": 0.2, "membership_scheduler_poll_seconds": 0.05}
    )


@pytest.fixture
async def replicas(aiohttp_client, fast):
    return [await aiohttp_client(create_app(fast)) for _ in range(2)]


async def sweeps_done(settings) -> int:
    client = connect(settings.mongo_url)
    try:
        return await client[settings.database("membership")][SCHEDULE].count_documents({"state": "done"})
    finally:
        await client.close()


async def term_ending_in(client, headers, member_id: str, days: int) -> dict:
    end = today() + timedelta(days=days)
    resp = await client.post(
        f"/members/{member_id}/renew",
        headers=headers,
        json={"term_start": (end - timedelta(days=364)).isoformat(), "term_end": end.isoformat()},
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_two_replicas_announce_each_notice_once_and_lapse_once(replicas, admin, events, fast):
    one, two = replicas
    soon = await (
        await one.post("/members", headers=admin, json={"full_name": "Kha Văn Sắp", "email": "sap@example.vn"})
    ).json()
    later = await (await two.post("/members", headers=admin, json={"full_name": "Kha Văn Chưa"})).json()
    await term_ending_in(one, admin, later["id"], 45)

    await term_ending_in(one, admin, soon["id"], 30)
    notice = (await events.wait_for("membership.expiring", soon["id"]))[0]
    assert (notice.days_left, notice.email) == (30, "sap@example.vn")

    await term_ending_in(two, admin, soon["id"], 7)
    notices = await events.wait_for("membership.expiring", soon["id"], count=2)
    assert sorted(n.days_left for n in notices) == [7, 30]

    ended = await term_ending_in(one, admin, soon["id"], -1)
    assert ended["status"] == "active"
    lapsed = (await events.wait_for("membership.lapsed", soon["id"]))[0]
    assert str(lapsed.term_end) == ended["term"]["end"]

    async def status():
        return (await (await two.get(f"/members/{soon['id']}", headers=admin)).json())["status"]

    assert await status() == "lapsed"
    history = (await (await one.get(f"/members/{soon['id']}/history", headers=admin)).json())["items"]
    assert history[-1]["action"] == "lapsed" and history[-1]["by"] == "system:membership"

    # Several more sweeps on both replicas: nothing is announced twice, the later term untouched.
    done = await sweeps_done(fast)

    async def four_more() -> bool:
        return await sweeps_done(fast) >= done + 4

    await eventually(four_more, what="four more sweeps")
    assert sorted(e.days_left for e in events.of("membership.expiring", soon["id"])) == [7, 30]
    assert len(events.of("membership.lapsed", soon["id"])) == 1
    assert events.of("membership.expiring", later["id"]) == []

    renewed = await (await one.post(f"/members/{soon['id']}/renew", headers=admin, json={})).json()
    assert renewed["status"] == "active" and renewed["term"]["start"] == today().isoformat()


async def test_concurrent_sweeps_write_each_notice_once(client, admin, events, settings):
    members = [
        await (await client.post("/members", headers=admin, json={"full_name": f"Lê Thị Hết {i}"})).json()
        for i in range(12)
    ]
    for m in members:
        await term_ending_in(client, admin, m["id"], 30)
    expiry = client.app[USE_CASES].expiry
    written = await asyncio.gather(*(expiry.sweep() for _ in range(3)))
    assert sum(written) == 12
    await events.wait_for("membership.expiring", count=12)
    assert sorted(e.member_id for e in events.of("membership.expiring")) == sorted(m["id"] for m in members)
