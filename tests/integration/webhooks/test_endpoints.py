"""Managing endpoints: who may manage which, what may be subscribed, secrets shown once and
rotated, a test call, and keys revoked by the gateway."""

from __future__ import annotations

import pytest

from services.webhooks import signing
from shared.contracts import CredentialRevoked
from tests.fakes.partner_events import DOCTORS, ENGINEERS, member
from tests.integration.webhooks.conftest import HOOKS
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_a_key_manages_its_own_endpoints_and_an_administrator_any_keys(hooks, receiver):
    mine, other = hooks.key("a1b2c3d4"), hooks.key("b2c3d4e5")
    endpoint = await hooks.register(mine, receiver.url + "/a", ["member.approved"], description="Cổng tỉnh")
    assert endpoint["key_prefix"] == "a1b2c3d4" and endpoint["state"] == "active"
    await hooks.register(other, receiver.url + "/b", ["member.approved"])

    path = f"/webhooks/endpoints/{endpoint['id']}"
    for method in ("GET", "DELETE"):
        resp = await hooks.client.request(method, path, headers=other)
        assert resp.status == 404, method  # another key's endpoint does not exist for it
    resp = await hooks.client.patch(path, json={"enabled": False}, headers=other)
    assert resp.status == 404
    listed = await (await hooks.client.get("/webhooks/endpoints", headers=mine)).json()
    assert [e["id"] for e in listed["items"]] == [endpoint["id"]]
    assert "secret" not in listed["items"][0]  # shown once, at registration

    everyone = await (await hooks.client.get("/webhooks/endpoints", headers=hooks.admin)).json()
    assert len(everyone["items"]) == 2
    theirs = await (await hooks.client.get("/webhooks/endpoints?key_prefix=b2c3d4e5", headers=hooks.admin)).json()
    assert [e["key_prefix"] for e in theirs["items"]] == ["b2c3d4e5"]
    paused = await hooks.client.patch(path, json={"enabled": False}, headers=hooks.admin)
    assert (await paused.json())["state"] == "paused"

    manager = await hooks.client.get("/webhooks/endpoints", headers=hooks.manager(ENGINEERS))
    assert manager.status == 403
    no_scope = await hooks.client.get("/webhooks/endpoints", headers=hooks.key("c3d4e5f6", ("members:read",)))
    assert no_scope.status == 403 and (await no_scope.json())["required"] == "webhooks:manage"
    assert (await hooks.client.delete(path, headers=mine)).status == 204
    assert (await hooks.client.get(path, headers=mine)).status == 404


async def test_what_a_key_may_subscribe_to_and_where(hooks, receiver):
    reader = hooks.key("a1b2c3d4", ("members:read", *HOOKS))
    resp = await hooks.client.post(
        "/webhooks/endpoints",
        json={
            "url": receiver.url + "/x",
            "event_types": ["member.approved", "registration.confirmed"],
            "contact_email": "ops@example.vn",
        },
        headers={**reader, "Accept-Language": "en"},
    )
    body = await resp.json()
    assert resp.status == 422 and body["errors"][0]["field"] == "event_types.1"
    assert "registrations:write" in body["errors"][0]["message"]

    async def refused(url: str, **extra) -> dict:
        resp = await hooks.client.post(
            "/webhooks/endpoints",
            json={"url": url, "event_types": ["member.approved"], "contact_email": "ops@example.vn", **extra},
            headers=reader,
        )
        assert resp.status == 422, url
        return await resp.json()

    for url in ("ftp://partner.example.vn/x", "https://u:p@partner.example.vn/x", "http://10.0.0.7/hooks"):
        problem = await refused(url)
        assert problem["errors"][0]["field"] == "url" and problem["errors"][0]["message"]  # in Vietnamese
    assert (await refused(receiver.url, event_types=["event.reminder_due"]))["errors"][0]["field"] == "event_types.0"
    assert (await refused(receiver.url, contact_email="not-an-address"))["errors"][0]["field"] == "contact_email"
    assert (await refused(receiver.url, key_prefix="99999999"))["errors"][0]["field"] == "key_prefix"
    offers = await (await hooks.client.get("/webhooks/event-types", headers=reader)).json()
    assert {"type": "certificate.issued", "scope": "registrations:write"}.items() <= {
        k: v for k, v in next(o for o in offers["items"] if o["type"] == "certificate.issued").items()
    }.items()


async def test_an_endpoint_an_administrator_registers_waits_for_its_key_to_call_once(hooks, receiver):
    endpoint = await hooks.register(hooks.admin, receiver.url + "/portal", ["member.approved"], key_prefix="f0f0f0f0")
    assert endpoint["awaiting_key"] is True and endpoint["secret"].startswith("whsec_")
    await hooks.handled(await hooks.publish(member([ENGINEERS], full_name="Chưa ai nghe")))
    assert await hooks.log(endpoint["id"], hooks.admin) == []

    key = hooks.key("f0f0f0f0", ("members:read", *HOOKS), org=DOCTORS)
    shown = await (await hooks.client.get("/webhooks/endpoints", headers=key)).json()  # its first call
    assert shown["items"][0]["awaiting_key"] is False
    await hooks.publish(member([ENGINEERS], full_name="Hội khác"))  # outside the key's reach
    await hooks.publish(member([DOCTORS], full_name="Bác sĩ Mới"))
    [got] = await receiver.wait_for("/portal", 1)
    assert "Bác sĩ Mới" in got.body.decode()


async def test_a_test_call_answers_how_the_endpoint_answered(hooks, receiver):
    key = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(key, receiver.url + "/t", ["member.approved"])
    receiver.answers.append((202, "x" * 3000, {}))
    resp = await hooks.client.post(
        f"/webhooks/endpoints/{endpoint['id']}/test", headers={**key, "Accept-Language": "en"}
    )
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    attempt = answer["attempt"]
    assert (attempt["trigger"], attempt["outcome"], attempt["status_code"]) == ("test", "delivered", 202)
    assert attempt["response_excerpt"] == "x" * 1024 and attempt["latency_ms"] >= 0
    [got] = receiver.at("/t")
    assert got.msg_id == answer["msg_id"]
    assert signing.verify(
        endpoint["secret"],
        got.msg_id,
        int(got.headers["webhook-timestamp"]),
        got.body,
        got.headers["webhook-signature"],
    )
    assert b'"type":"webhook.test"' in got.body and b"A test webhook" in got.body
    [logged] = await hooks.log(endpoint["id"], key)
    assert logged["event_type"] == "webhook.test" and logged["state"] == "delivered"


async def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(hooks, receiver):
    key = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(key, receiver.url + "/r", ["member.approved"])
    path = f"/webhooks/endpoints/{endpoint['id']}"
    resp = await hooks.client.post(path + "/rotate-secret", json={"overlap_hours": 24}, headers=key)
    rotated = await resp.json()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_valid_until"]
    await hooks.client.post(path + "/test", headers=key)
    [got] = receiver.at("/r")
    signatures = got.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    for secret in (rotated["secret"], endpoint["secret"]):
        assert signing.verify(
            secret, got.msg_id, int(got.headers["webhook-timestamp"]), got.body, got.headers["webhook-signature"]
        )

    await hooks.client.post(path + "/rotate-secret", json={"overlap_hours": 0}, headers=key)  # e.g. after a leak
    await hooks.client.post(path + "/test", headers=key)
    latest = receiver.at("/r")[-1]
    assert len(latest.headers["webhook-signature"].split(" ")) == 1
    assert not signing.verify(
        rotated["secret"],
        latest.msg_id,
        int(latest.headers["webhook-timestamp"]),
        latest.body,
        latest.headers["webhook-signature"],
    )


async def test_a_revoked_key_hears_nothing_more(hooks, receiver):
    key = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(key, receiver.url + "/k", ["member.approved"])
    await hooks.publish(CredentialRevoked(kind="session", id="a1b2c3d4"), producer="gateway")  # a login: not ours
    await hooks.publish(CredentialRevoked(kind="api_key", id="a1b2c3d4"), producer="gateway")
    path = f"/webhooks/endpoints/{endpoint['id']}"

    async def disabled() -> dict | None:
        shown = await (await hooks.client.get(path, headers=hooks.admin)).json()
        return shown if shown["state"] == "disabled" else None

    shown = await eventually(disabled, what="the revoked key's endpoint disabled")
    assert shown["disabled_reason"] == "key_revoked"
    assert (await hooks.client.patch(path, json={"enabled": True}, headers=hooks.admin)).status == 409
    refused = await hooks.client.post(
        "/webhooks/endpoints",
        json={
            "url": receiver.url + "/k2",
            "event_types": ["member.approved"],
            "contact_email": "a@b.vn",
            "key_prefix": "a1b2c3d4",
        },
        headers=hooks.admin,
    )
    assert refused.status == 409
    await hooks.publish(member([ENGINEERS]))
    other = await hooks.register(hooks.key("b2c3d4e5"), receiver.url + "/still-here", ["member.approved"])
    await hooks.publish(member([ENGINEERS]))
    await receiver.wait_for("/still-here", 1)
    assert receiver.at("/k") == [] and other["state"] == "active"
