"""Membership over HTTP, in process, with the real store and broker."""

from __future__ import annotations

import io
import json

import pytest

from services.membership.app import create_app
from shared.identity import HEADER, Identity, sign
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def staff(settings):
    return {HEADER: sign(Identity(sub="staff:lan", roles=("admin",)), settings.internal_identity_secret)}


async def test_requests_without_the_gateway_identity_get_nothing(client, settings):
    resp = await client.post("/members", json={"full_name": "A"})
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
    forged = {HEADER: sign(Identity(sub="staff:x", roles=("admin",)), "not-the-secret")}
    assert (await client.get("/members", headers=forged)).status == 401


async def test_creating_a_member_cleans_input_and_announces_it(client, settings, staff):
    seen = []

    async def on_approved(envelope, data):
        seen.append((envelope.correlation_id, data.email, data.phone))

    listener = make_bus(settings, "listener")
    listener.subscribe("approved", ["member.approved"], on_approved)
    await listener.start()
    try:
        resp = await client.post(
            "/members",
            headers={**staff, "X-Request-ID": "req-42"},
            json={"full_name": "  Phạm   Minh Đức ", "email": "Duc.Pham@Gmail.com", "phone": "091.234.5678"},
        )
        assert resp.status == 201, await resp.text()
        assert resp.headers["X-Request-ID"] == "req-42"
        member = await resp.json()
        assert member["full_name"] == "Phạm Minh Đức"
        assert member["email"] == "duc.pham@gmail.com" and member["phone"] == "+84912345678"
        assert member["status"] == "active" and member["created_by"] == "staff:lan"
        assert resp.headers["Location"].endswith(member["id"])
        await eventually(lambda: _async(seen), what="member.approved published")
        assert seen == [("req-42", "duc.pham@gmail.com", "+84912345678")]

        again = await client.get(f"/members/{member['id']}", headers=staff)
        assert (await again.json())["full_name"] == "Phạm Minh Đức"
    finally:
        await listener.close()


async def test_a_second_member_with_the_same_email_or_phone_is_refused_naming_the_first(client, staff):
    first = await (
        await client.post(
            "/members",
            headers=staff,
            json={"full_name": "Võ Thị Sáu", "email": "sau@example.vn", "phone": "0987654321"},
        )
    ).json()
    for clash, field in (({"email": "SAU@example.vn"}, "email"), ({"phone": "+84 987 654 321"}, "phone")):
        resp = await client.post("/members", headers=staff, json={"full_name": "Someone Else", **clash})
        assert resp.status == 409
        body = await resp.json()
        assert body["field"] == field and body["existing_member_id"] == first["id"]
        assert body["type"].endswith("/duplicate-member")


async def test_bad_input_is_refused_with_the_fields_at_fault(client, staff):
    resp = await client.post(
        "/members", headers=staff, json={"full_name": " ", "email": {"$ne": None}, "phone": "12", "is_admin": True}
    )
    assert resp.status == 422
    body = await resp.json()
    assert {e["field"] for e in body["errors"]} == {"full_name", "email", "phone", "is_admin"}

    resp = await client.post("/members", headers={**staff, "Content-Type": "application/json"}, data=b"{oops")
    assert resp.status == 400 and (await resp.json())["type"].endswith("/malformed-json")

    resp = await client.get("/members?limit[$gt]=1", headers=staff)
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "limit[$gt]"

    resp = await client.get("/members/nobody", headers=staff)
    assert resp.status == 404 and resp.content_type == "application/problem+json"


async def test_oversized_bodies_are_refused(client, staff, settings):
    big = {"full_name": "A" * 100, "padding": "x" * (settings.max_body_bytes + 10)}
    body = io.BytesIO(json.dumps(big).encode())
    resp = await client.post("/members", headers={**staff, "Content-Type": "application/json"}, data=body)
    assert resp.status == 413
    assert (await resp.json())["type"].endswith("/payload-too-large")


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    body = await ready.json()
    assert ready.status == 200, body
    assert body["checks"]["store"]["ok"] and body["checks"]["broker"]["ok"]


async def test_paging_through_members(client, staff):
    for i in range(5):
        assert (await client.post("/members", headers=staff, json={"full_name": f"Hội viên {i}"})).status == 201
    page1 = await (await client.get("/members?limit=3", headers=staff)).json()
    page2 = await (await client.get(f"/members?limit=3&after={page1['next_after']}", headers=staff)).json()
    ids = [m["id"] for m in page1["items"] + page2["items"]]
    assert len(ids) == len(set(ids)) == 5 and page2["next_after"] is None


async def _async(value):
    return value
