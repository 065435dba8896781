"""Sending: endpoints that are gone or failing are disabled and their contact told; internal
addresses are never reached; redirects are not followed; replicas send each delivery
once; a slow partner does not hold up the others."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from shared.contracts import WebhookEndpointDisabled
from tests.fakes.partner_events import ENGINEERS, member
from tests.support import eventually
from tests.support.bus import EventRecorder

pytestmark = pytest.mark.integration


async def endpoint_state(hooks, endpoint_id: str) -> dict:
    resp = await hooks.client.get(f"/webhooks/endpoints/{endpoint_id}", headers=hooks.admin)
    return await resp.json()


async def test_an_endpoint_answering_410_is_disabled_and_its_contact_told(hooks, receiver):
    key = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(key, receiver.url + "/gone", ["member.approved"], language="en")
    receiver.answers.append((410, "we stopped listening", {}))
    async with EventRecorder(hooks.settings, ["webhook.endpoint_disabled"]) as heard:
        await hooks.publish(member([ENGINEERS]))
        [told] = await heard.wait_for("webhook.endpoint_disabled")
    assert isinstance(told, WebhookEndpointDisabled)
    assert (told.endpoint_id, told.reason, told.contact_email, told.language) == (
        endpoint["id"],
        "gone",
        "ops@partner.example.vn",
        "en",
    )
    shown = await endpoint_state(hooks, endpoint["id"])
    assert (shown["state"], shown["disabled_reason"]) == ("disabled", "gone")
    [delivery] = await hooks.log(endpoint["id"], key)
    assert delivery["state"] == "failed" and delivery["attempts"] == 1  # 410 is not retried
    await hooks.handled(await hooks.publish(member([ENGINEERS])))
    assert len(receiver.at("/gone")) == 1 and len(await hooks.log(endpoint["id"], key)) == 1

    # Once fixed, the partner resumes it.
    resp = await hooks.client.patch(f"/webhooks/endpoints/{endpoint['id']}", json={"enabled": True}, headers=key)
    assert (await resp.json())["state"] == "active"
    await hooks.publish(member([ENGINEERS]))
    await receiver.wait_for("/gone", 2)


async def test_an_endpoint_failing_for_too_long_is_disabled(make_webhooks, receiver):
    hooks = await make_webhooks(webhooks_disable_after_hours=0.0002)  # 0.72 s stands for 5 days
    await hooks.seed_tree()
    key = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(key, receiver.url + "/down", ["member.approved"])
    receiver.answers.extend([(500, "down", {})] * 20)
    async with EventRecorder(hooks.settings, ["webhook.endpoint_disabled"]) as heard:
        await hooks.publish(member([ENGINEERS]))
        [told] = await heard.wait_for("webhook.endpoint_disabled")
    assert told.reason == "failing" and told.failing_since is not None
    shown = await endpoint_state(hooks, endpoint["id"])
    assert shown["state"] == "disabled" and shown["failing_since"] is not None
    [delivery] = await hooks.log(endpoint["id"], key)
    assert delivery["state"] == "cancelled" and delivery["attempts"] >= 2


async def test_internal_addresses_are_never_reached_unless_the_operator_allows_them(make_webhooks, receiver):
    hooks = await make_webhooks(webhooks_allow_hosts="")  # as in production
    await hooks.seed_tree()
    key = hooks.key("a1b2c3d4")
    literal = await hooks.client.post(
        "/webhooks/endpoints",
        json={"url": receiver.url + "/x", "event_types": ["member.approved"], "contact_email": "ops@example.vn"},
        headers=key,
    )
    assert literal.status == 422 and (await literal.json())["errors"][0]["field"] == "url"

    # A name is judged where it resolves, at each try: localhost resolves inside.
    by_name = receiver.url.replace("127.0.0.1", "localhost") + "/x"
    endpoint = await hooks.register(key, by_name, ["member.approved"])
    resp = await hooks.client.post(f"/webhooks/endpoints/{endpoint['id']}/test", headers=key)
    attempt = (await resp.json())["attempt"]
    assert attempt["outcome"] == "refused" and "non-public-address" in attempt["error"]
    await hooks.publish(member([ENGINEERS]))

    async def tried() -> list | None:
        items = [d for d in await hooks.log(endpoint["id"], key) if d["event_type"] == "member.approved"]
        return items if items and items[0]["attempts"] >= 1 else None

    [delivery] = await eventually(tried, what="a try refused")
    assert delivery["log"][-1]["outcome"] == "refused" and delivery["state"] == "pending"  # retried later
    assert receiver.received == []


async def test_redirects_are_not_followed(hooks, receiver):
    key = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(key, receiver.url + "/moved", ["member.approved"])
    receiver.answers.append((307, "", {"Location": receiver.url + "/elsewhere"}))
    resp = await hooks.client.post(f"/webhooks/endpoints/{endpoint['id']}/test", headers=key)
    attempt = (await resp.json())["attempt"]
    assert (attempt["outcome"], attempt["status_code"]) == ("failed", 307)
    assert receiver.at("/elsewhere") == []


async def test_two_replicas_send_each_delivery_once(make_webhooks, receiver):
    first = await make_webhooks()
    second = await make_webhooks()  # the same store and queues: a second replica
    await first.seed_tree()
    made = await first.register(first.key("a1b2c3d4"), receiver.url + "/once", ["member.approved", "member.updated"])
    await second.knows(made["id"], "member.approved")  # registered on the first: the second hears of it at once
    for n in range(40):
        await first.publish(member([ENGINEERS], full_name=f"Hội viên {n}"))
    got = await receiver.wait_for("/once", 40, timeout=20)

    async def all_delivered() -> bool:
        return await first.db["deliveries"].count_documents({"state": "delivered"}) == 40

    await eventually(all_delivered, what="every delivery settled")
    ids = Counter(r.msg_id for r in receiver.at("/once"))
    assert len(ids) == 40 and set(ids.values()) == {1}, "no message twice"
    assert len(got) == 40
    assert {json.loads(r.body)["data"]["member"]["full_name"] for r in got} == {f"Hội viên {n}" for n in range(40)}


async def test_a_slow_partner_does_not_hold_up_the_others(make_webhooks, receiver, aiohttp_server):
    from aiohttp import web

    from tests.integration.webhooks.conftest import Receiver

    hooks = await make_webhooks(webhooks_endpoint_concurrency=2)
    await hooks.seed_tree()
    slow = Receiver(delay=1.0)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", slow.handle)
    slow.url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    await hooks.register(hooks.key("5105105a"), slow.url + "/slow", ["member.approved"])
    await hooks.register(hooks.key("fa5fa5fa"), receiver.url + "/fast", ["member.approved"])
    for n in range(6):
        await hooks.publish(member([ENGINEERS], full_name=f"Hội viên {n}"))
    await receiver.wait_for("/fast", 6)
    assert len(slow.at("/slow")) <= 4, "the slow endpoint had at most its own slots while the fast one got everything"
    await slow.wait_for("/slow", 6, timeout=20)

    async def settled() -> bool:
        return await hooks.db["deliveries"].count_documents({"state": "delivered"}) == 12

    await eventually(settled, timeout=20, what="the slow endpoint's deliveries settled")
