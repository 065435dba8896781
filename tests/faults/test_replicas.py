"""`make run REPLICAS=2` under kill -9: one replica of a back service dies in the middle
of member creations; the other carries on, every acknowledged member is there and
welcomed exactly once, and make run brings the dead one back."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiohttp
import pytest

from tests.faults.conftest import Outcome, Platform, create_members, doubled, new_organization, now, present, record
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # the first test also waits for make run
MEMBERS = 60
AT_ONCE = 6


async def test_a_replica_killed_mid_creations_loses_nothing_doubles_nothing_and_comes_back(platform: Platform):
    domain = f"r{uuid.uuid4().hex[:6]}.vn"
    outcome = Outcome()
    async with aiohttp.ClientSession() as http:
        org = await new_organization(http, platform, f"HOI-{domain[:7].upper()}")
        people = [
            {"full_name": f"Hội viên {i}", "email": f"hv{i}@{domain}", "organization_ids": [org]}
            for i in range(MEMBERS)
        ]
        creating = asyncio.create_task(create_members(http, platform, people, outcome, AT_ONCE))
        await eventually(lambda: now(len(outcome.acknowledged) >= MEMBERS // 4), timeout=60, what="a quarter in")
        killed_at = platform.kill("membership-2")
        await creating
        finished_at = time.monotonic()
        # Every acknowledged member is there, through either gateway.
        stored = await present(http, platform, [f"/members/{m['id']}" for m in outcome.acknowledged.values()])
        welcomed = await eventually(
            lambda: now(
                (counts := platform.smtp.per_recipient(domain)) and set(outcome.acknowledged) <= set(counts) and counts
            ),
            timeout=90,
            what="every acknowledged member welcomed",
        )
        all_in = time.monotonic() - killed_at
        at, _ = await platform.wait_said(r"^membership-2 is back: ", killed_at, 90)
    record(
        "kill -9 membership-2 mid member creations",
        acknowledged=len(outcome.acknowledged),
        present=stored,
        lost=len(outcome.acknowledged) - stored,
        doubled=doubled(welcomed),
        refused=dict(outcome.failed),
        recovery_s=f"{at - killed_at:.1f}",
        emails_all_in_s=f"{all_in:.1f}",
        creations_s=f"{finished_at - killed_at:.1f}",
    )
    assert stored == len(outcome.acknowledged)
    assert doubled(welcomed) == 0, welcomed
    # The other replica carried on: only what was in flight on the killed one may have failed.
    assert sum(outcome.failed.values()) <= AT_ONCE, outcome.failed
    assert len(outcome.acknowledged) >= MEMBERS - AT_ONCE
    assert "membership-2 (pid" in platform.output() and "restarted" in platform.output()
