"""kill -9 of one replica of notifications in the middle of a campaign, and of one
replica of events in the middle of a registration rush (while the campaign heals:
both at once keeps the suite short, and their sinks are apart — their own addresses
and numbers). Counted per recipient at the SMTP sink and the SMS provider."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.faults.conftest import (
    Outcome,
    Platform,
    call,
    create_members,
    doubled,
    new_organization,
    now,
    present,
    record,
)
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # the first test also waits for make run
RECIPIENTS = 30
SEATS, GUESTS, AT_ONCE = 15, 45, 6
# A delivery claimed by the killed replica waits for its lease (services/notifications/store.py).
HEAL_SECONDS = 150


async def test_kill_9_mid_campaign_and_mid_registration_rush(platform: Platform):
    tag = uuid.uuid4().hex[:6]
    campaign_domain, rush_domain = f"c{tag}.vn", f"g{tag}.vn"
    numbers = f"+84912{tag[:1].translate(str.maketrans('abcdef', '123456'))}"
    async with aiohttp.ClientSession() as http:
        org = await new_organization(http, platform, f"HOI-C{tag.upper()}")
        people = [
            {
                "full_name": f"Hội viên {i}",
                "email": f"c{i}@{campaign_domain}",
                "phone": f"{numbers}{i:05d}",
                "consents": {"email": True, "sms": True},
                "organization_ids": [org],
            }
            for i in range(RECIPIENTS)
        ]
        members = Outcome()
        await create_members(http, platform, people, members)
        assert len(members.acknowledged) == RECIPIENTS, members.failed
        # Notifications knows them all once each has had the welcome email.
        await eventually(
            lambda: now(len(platform.smtp.per_recipient(campaign_domain)) == RECIPIENTS),
            timeout=90,
            what="every recipient known to notifications",
        )
        marker = f"TM{tag}"  # plain ASCII: SMS go without diacritics
        status, campaign = await call(
            http,
            "POST",
            f"{platform.gateway(0)}/api/v1/notifications/campaigns",
            headers=platform.staff,
            json={
                "name": f"Thư mời {marker}",
                "segment": {"kind": "organization", "value": org},
                "channels": ["email", "sms"],
                "subject": f"Thư mời {marker}",
                "body": "Hội thảo khoa học tháng tới.",
                "sms_text": f"{marker}: hoi thao khoa hoc thang toi.",
            },
        )
        assert status == 201, campaign
        await eventually(
            lambda: now(sum(platform.smtp.per_recipient(campaign_domain, marker).values()) >= 3),
            timeout=60,
            what="the campaign under way",
        )
        campaign_killed = platform.kill("notifications-2")

        rush = await _registration_rush(http, platform, rush_domain)

        emails = await eventually(
            lambda: now(_all_once(platform.smtp.per_recipient(campaign_domain, marker), RECIPIENTS)),
            timeout=HEAL_SECONDS,
            what="the campaign's email to every recipient",
        )
        sms = await eventually(
            lambda: now(_all_once(platform.sms.per_number(numbers, marker), RECIPIENTS)),
            timeout=30,
            what="the campaign's SMS to every recipient",
        )
        healed = time.monotonic() - campaign_killed
        await asyncio.sleep(2)  # a late second copy would show now
        emails = platform.smtp.per_recipient(campaign_domain, marker)
        sms = platform.sms.per_number(numbers, marker)
    record(
        "kill -9 notifications-2 mid campaign",
        acknowledged=f"{RECIPIENTS} recipients x 2 channels",
        present=f"{len(emails)} email + {len(sms)} sms",
        lost=(RECIPIENTS - len(emails)) + (RECIPIENTS - len(sms)),
        doubled=doubled(emails) + doubled(sms),
        recovery_s=f"{healed:.1f}",
    )
    assert len(emails) == RECIPIENTS and len(sms) == RECIPIENTS
    assert doubled(emails) == 0 and doubled(sms) == 0, (emails, sms)
    _check_rush(rush)


async def _registration_rush(http: aiohttp.ClientSession, platform: Platform, domain: str) -> dict:
    org_code = f"HOI-E{domain[1:7].upper()}"
    await new_organization(http, platform, org_code)
    start = datetime.now(UTC) + timedelta(days=10)
    body = {
        "kind": "conference",
        "title": {"vi": "Hội nghị khoa học thường niên"},
        "organizer": org_code,
        "venue": "Trung tâm Hội nghị tỉnh",
        "capacity": SEATS,
        "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=8)).isoformat()}],
    }

    async def created():  # events learns the organisation from membership's event
        status, event = await call(
            http, "POST", f"{platform.gateway(0)}/api/v1/events", headers=platform.staff, json=body
        )
        return event if status == 201 else None

    event = await eventually(created, timeout=30, what="the event created")
    status, _ = await call(
        http, "POST", f"{platform.gateway(1)}/api/v1/events/{event['id']}/publish", headers=platform.staff
    )
    assert status == 200
    told = Outcome()
    gate = asyncio.Semaphore(AT_ONCE)
    replayed = 0

    async def register(i: int) -> None:
        nonlocal replayed
        email = f"g{i}@{domain}"
        async with gate:
            status, answer = await call(
                http,
                "POST",
                f"{platform.gateway(i)}/api/v1/events/{event['id']}/registrations",
                headers={**platform.staff, "Idempotency-Key": f"rush-{i}"},
                json={"guest": {"full_name": f"Đại biểu {i}", "email": email}},
            )
        if status in (200, 201):  # 200: a retry given the first answer (Idempotency-Replayed)
            told.acknowledged[email] = answer
            replayed += status == 200
        else:
            told.failed[str(status)] += 1

    rush = asyncio.gather(*(register(i) for i in range(GUESTS)))
    await eventually(lambda: now(len(told.acknowledged) >= GUESTS // 4), timeout=60, what="the rush under way")
    killed = platform.kill("events-2")
    await rush
    failed = dict(told.failed)
    # Callers retry what failed with the same Idempotency-Key: registered once, whatever happened.
    for i in range(GUESTS):
        for _ in range(40):
            if f"g{i}@{domain}" in told.acknowledged:
                break
            await register(i)
            await asyncio.sleep(0.25)
    stored = await present(http, platform, [f"/registrations/{r['id']}" for r in told.acknowledged.values()])
    mails = await eventually(
        lambda: now(_all_once(platform.smtp.per_recipient(domain), len(told.acknowledged))),
        timeout=60,
        what="every registrant told",
    )
    recovered = time.monotonic() - killed
    # Per recipient and message: a waitlisted guest promoted later gets a second, different email.
    kinds = Counter(
        (m["To"].addresses[0].addr_spec.lower(), str(m["Subject"])) for m in platform.smtp.to_domain(domain)
    )
    _, page = await call(
        http,
        "GET",
        f"{platform.gateway(0)}/api/v1/events/{event['id']}/registrations",
        headers=platform.staff,
        params={"limit": "1000"},
    )
    _, counters = await call(http, "GET", f"{platform.gateway(0)}/api/v1/events/{event['id']}", headers=platform.staff)
    return {
        "acknowledged": len(told.acknowledged),
        "failed_then_retried": failed,
        "replayed": replayed,
        "present": stored,
        "mails": mails,
        "kinds": kinds,
        "statuses": Counter(r["status"] for r in page["items"]),
        "counters": counters,
        "ids": len({r["id"] for r in told.acknowledged.values()}),
        "recovery": recovered,
    }


def _check_rush(rush: dict) -> None:
    mails, kinds, counters, statuses = rush["mails"], rush["kinds"], rush["counters"], rush["statuses"]
    # Seats a batch of the killed replica had taken, for registrations it never wrote: they
    # come back when its lease lapses (issue 11.4 makes that seconds), never to two people.
    held = counters["confirmed"] - statuses["confirmed"]
    record(
        "kill -9 events-2 mid registration rush",
        acknowledged=rush["acknowledged"],
        present=rush["present"],
        lost=rush["acknowledged"] - rush["present"],
        doubled=doubled(kinds),
        confirmed=f"{statuses['confirmed']}/{SEATS}",
        waitlisted=statuses["waitlisted"],
        seats_held_by_the_dead=held,
        refused_then_retried=rush["failed_then_retried"],
        retries_given_first_answer=rush["replayed"],
        recovery_s=f"{rush['recovery']:.1f}",
    )
    assert rush["acknowledged"] == GUESTS == rush["present"] == rush["ids"]
    assert statuses["confirmed"] + statuses["waitlisted"] == GUESTS, statuses
    assert statuses["confirmed"] <= SEATS and counters["confirmed"] <= SEATS  # never more than capacity
    assert counters["waiting"] == statuses["waitlisted"] and held >= 0, (counters, statuses)
    assert len(mails) == GUESTS and doubled(kinds) == 0, kinds


def _all_once(counts, expected: int):
    return counts if len(counts) >= expected else None
