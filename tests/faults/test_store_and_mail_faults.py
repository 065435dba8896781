"""The store killed and restarted under traffic; a poison message on the bus; the mail
server answering 4xx for a while, then 5xx for one address. Each counted per recipient
at the sinks."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections import Counter
from urllib.parse import unquote, urlparse

import aio_pika
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


def people(org: str, domain: str, count: int) -> list[dict]:
    return [{"full_name": f"Hội viên {i}", "email": f"m{i}@{domain}", "organization_ids": [org]} for i in range(count)]


async def test_the_store_killed_and_restarted_mid_creations(platform: Platform):
    domain = f"s{uuid.uuid4().hex[:6]}.vn"
    outcome = Outcome()
    async with aiohttp.ClientSession() as http:
        org = await new_organization(http, platform, f"HOI-{domain[:7].upper()}")
        creating = asyncio.create_task(create_members(http, platform, people(org, domain, 30), outcome, at_once=4))
        await eventually(lambda: now(len(outcome.acknowledged) >= 8), timeout=60, what="creations under way")
        killed_at = time.monotonic()
        platform.store.kill()
        await asyncio.sleep(3)
        platform.store.start()
        restarted_at = time.monotonic()
        await creating
        after = Outcome()

        async def one_more_goes_in():
            await create_members(http, platform, people(org, "after." + domain, 1), after, at_once=1)
            return after.acknowledged

        await eventually(one_more_goes_in, timeout=90, interval=0.5, what="a creation after the restart")
        recovered = time.monotonic() - restarted_at
        stored = await present(http, platform, [f"/members/{m['id']}" for m in outcome.acknowledged.values()])
        mails = await eventually(
            lambda: now(_covers(platform.smtp.per_recipient(domain), outcome.acknowledged)),
            timeout=90,
            what="every acknowledged member welcomed",
        )
    record(
        "store kill -9, restarted after 3 s",
        acknowledged=len(outcome.acknowledged),
        present=stored,
        lost=len(outcome.acknowledged) - stored,
        doubled=doubled(mails),
        refused=dict(outcome.failed),
        recovery_s=f"{recovered:.1f}",
        outage_s=f"{restarted_at - killed_at:.1f}",
    )
    assert stored == len(outcome.acknowledged)
    assert doubled(mails) == 0, mails


async def test_a_poison_message_is_parked_once_by_each_consumer_and_blocks_nothing(platform: Platform):
    vhost = unquote(urlparse(platform.env["AMQP_URL"]).path.lstrip("/"))
    exchange = platform.env["BUS_EXCHANGE"]
    consumers = _queues_bound(vhost, exchange, "member.approved")
    assert consumers, "no consumer of member.approved"
    before = _messages(vhost)
    connection = await aio_pika.connect_robust(platform.env["AMQP_URL"])
    try:
        channel = await connection.channel()
        target = await channel.get_exchange(exchange, ensure=False)
        for body in (b"\xff\xfe not json at all", b'{"id": "no-envelope", "type": "member.approved"}'):
            await target.publish(
                aio_pika.Message(body, content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key="member.approved",
            )
    finally:
        await connection.close()
    sent_at = time.monotonic()
    domain = f"p{uuid.uuid4().hex[:6]}.vn"
    async with aiohttp.ClientSession() as http:
        org = await new_organization(http, platform, f"HOI-{domain[:7].upper()}")
        outcome = Outcome()
        await create_members(http, platform, people(org, domain, 3), outcome)
        mails = await eventually(
            lambda: now(_covers(platform.smtp.per_recipient(domain), outcome.acknowledged)),
            timeout=60,
            what="members after the poison welcomed",
        )
    unblocked = time.monotonic() - sent_at

    def parked() -> Counter[str]:
        after = _messages(vhost)
        return Counter({q: after.get(f"{q}.dead", 0) - before.get(f"{q}.dead", 0) for q in consumers})

    await eventually(lambda: now(all(n >= 2 for n in parked().values())), timeout=30, what="the poison parked")
    await asyncio.sleep(2)  # parked once, not again and again
    counts = parked()
    record(
        "poison message (2) on member.approved",
        consumers=len(consumers),
        parked=sum(counts.values()),
        expected=2 * len(consumers),
        doubled=sum(1 for n in counts.values() if n > 2),
        next_welcome_s=f"{unblocked:.1f}",
    )
    assert all(n == 2 for n in counts.values()), counts
    assert doubled(mails) == 0 and len(mails) == 3


async def test_mail_server_busy_for_a_while_then_refusing_one_address(platform: Platform):
    domain = f"b{uuid.uuid4().hex[:6]}.vn"
    refused = f"m0@{domain}"
    platform.smtp.answers[refused] = "550 5.1.1 No such mailbox"
    busy_until = time.monotonic() + 5
    platform.smtp.busy_until = busy_until
    outcome = Outcome()
    try:
        async with aiohttp.ClientSession() as http:
            org = await new_organization(http, platform, f"HOI-{domain[:7].upper()}")
            await create_members(http, platform, people(org, domain, 12), outcome)
            expected = {a: m for a, m in outcome.acknowledged.items() if a != refused}
            mails = await eventually(
                lambda: now(_covers(platform.smtp.per_recipient(domain), expected)),
                timeout=90,
                what="every welcome through once the server is back",
            )
            recovered = time.monotonic() - busy_until

            async def refused_delivery():
                _, page = await call(
                    http,
                    "GET",
                    f"{platform.gateway(0)}/api/v1/notifications/deliveries",
                    headers=platform.staff,
                    params={"member_id": outcome.acknowledged[refused]["id"]},
                )
                return [d for d in page.get("items", []) if d.get("status") == "failed"]

            failed = await eventually(refused_delivery, timeout=30, what="the refused welcome recorded as failed")
            tries = platform.smtp.refused[refused]
            await asyncio.sleep(3)  # and not tried again
            mails = platform.smtp.per_recipient(domain)
    finally:
        platform.smtp.busy_until = 0
        platform.smtp.answers.pop(refused, None)
    record(
        "SMTP 451 for 5 s, then 550 for one address",
        acknowledged=len(outcome.acknowledged),
        present=len(mails),
        lost=len(expected) - len(set(expected) & set(mails)),
        doubled=doubled(mails),
        refused_address_sent=mails.get(refused, 0),
        refused_address_tries=tries,
        recovery_s=f"{recovered:.1f}",
    )
    assert refused not in mails and len(failed) == 1
    assert platform.smtp.refused[refused] == tries  # a 5xx is final: no retry after it
    assert set(mails) == set(expected) and doubled(mails) == 0, mails


def _covers(counts: Counter[str], acknowledged: dict) -> Counter[str] | None:
    return counts if set(acknowledged) <= set(counts) else None


def _queues_bound(vhost: str, exchange: str, routing_key: str) -> list[str]:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_bindings", "-p", vhost, "source_name", "routing_key", "destination_name"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines() if line.count("\t") == 2]
    return sorted({dest for source, key, dest in rows if source == exchange and key == routing_key})


def _messages(vhost: str) -> dict[str, int]:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return {
        name: int(count)
        for name, count in (line.split("\t") for line in out.splitlines() if line.count("\t") == 1)
        if count.isdigit()
    }
