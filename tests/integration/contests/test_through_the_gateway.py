"""Contests behind the real gateway: an administrator makes a judge's staff account,
the judge logs in and reaches only what is assigned to them, the contest's website
uses a partner key, documents stream through, and anyone reads the editions."""

from __future__ import annotations

import pytest

from deploy.local.embedded_store import free_port
from services.contests.app import create_app as contests_app
from services.gateway.app import create_app as gateway_app
from tests.integration.contests.conftest import rounds, technical_entry

pytestmark = pytest.mark.integration
API = "/api/v1"
PASSWORD = "bootstrap-admin-password"


@pytest.fixture
async def gateway(aiohttp_client, aiohttp_server, settings):
    light = settings.model_copy(
        update={
            "lienhiep_bootstrap_admin_password": PASSWORD,
            "gateway_argon2_time_cost": 1,
            "gateway_argon2_memory_kib": 8192,
        }
    )
    contests = await aiohttp_server(contests_app(light))
    closed = f"http://127.0.0.1:{free_port()}"
    return await aiohttp_client(
        gateway_app(
            light.model_copy(
                update={
                    "contests_url": str(contests.make_url("")).rstrip("/"),
                    "membership_url": closed,
                    "events_url": closed,
                    "notifications_url": closed,
                }
            )
        )
    )


async def login(gateway, username: str, password: str) -> dict[str, str]:
    resp = await gateway.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    return {"Authorization": f"Bearer {body['access_token']}", "role": body["user"]["role"]}


async def call(gateway, method, path, headers, expect=200, **kw):
    resp = await gateway.request(
        method, f"{API}{path}", headers={k: v for k, v in headers.items() if k != "role"}, **kw
    )
    body = await resp.json() if resp.content_type.endswith("json") else await resp.read()
    assert resp.status == expect, (resp.status, body)
    return body


async def test_a_judge_account_logs_in_and_reaches_only_its_own_entries(gateway):
    admin = await login(gateway, "admin", PASSWORD)
    made = await call(
        gateway,
        "POST",
        "/admin/staff",
        admin,
        201,
        json={
            "username": "gk.an",
            "password": "mat-khau-giam-khao-2027",
            "role": "judge",
            "organization_id": "org-tin-hoc",
        },
    )
    assert (made["role"], made["organization_id"]) == ("judge", "org-tin-hoc")
    judge = await login(gateway, "gk.an", "mat-khau-giam-khao-2027")
    assert judge["role"] == "judge"
    key = await call(
        gateway,
        "POST",
        "/admin/api-keys",
        admin,
        201,
        json={"name": "Website Hội thi", "scopes": ["contests:read", "contests:write"]},
    )
    website = {"X-API-Key": key["key"]}

    edition = await call(
        gateway,
        "POST",
        "/contests/editions",
        admin,
        201,
        json={
            "code": "STKT10",
            "kind": "technical",
            "name": {"vi": "Hội thi Sáng tạo kỹ thuật lần thứ X"},
            "timeline": rounds("registration", "forwarding"),
            "eligibility": {"applied_since": "2021-01-01"},
        },
    )
    mine = await call(
        gateway, "POST", f"/contests/editions/{edition['id']}/entries", website, 201, json=technical_entry()
    )
    other = await call(
        gateway,
        "POST",
        f"/contests/editions/{edition['id']}/entries",
        website,
        201,
        json=technical_entry(title="Hệ thống cảnh báo sạt lở đất"),
    )
    pdf = b"%PDF-1.4\n" + bytes(5000)
    attached = await call(
        gateway,
        "POST",
        f"/contests/entries/{mine['id']}/documents?name=thuyet-minh.pdf",
        {**website, "Content-Type": "application/pdf"},
        201,
        data=pdf,
    )
    assert attached["documents"][0]["size"] == len(pdf)
    for entry in (mine, other):
        await call(gateway, "POST", f"/contests/entries/{entry['id']}/screening", admin, json={"decision": "in"})
    await call(
        gateway,
        "PUT",
        f"/contests/editions/{edition['id']}/judges/gk.an",
        admin,
        json={"full_name": "TS. Lê Văn An", "fields": ["agriculture"]},
    )
    await call(gateway, "POST", f"/contests/entries/{mine['id']}/assignments", admin, json={"judge": "gk.an"})

    assigned = await call(gateway, "GET", "/contests/judging/entries", judge)
    assert [i["code"] for i in assigned["items"]] == [mine["code"]]
    document = await call(gateway, "GET", attached["documents"][0]["url"].removeprefix(API), judge)
    assert document == pdf
    await call(gateway, "GET", f"/contests/entries/{other['id']}", judge, 404)
    await call(gateway, "GET", f"/contests/editions/{edition['id']}/ranking", judge, 403)
    await call(gateway, "GET", f"/contests/editions/{edition['id']}/entries", judge, 403)
    scored = await call(
        gateway,
        "PUT",
        f"/contests/judging/entries/{mine['id']}/sheet",
        judge,
        json={"scores": {"novelty": 25, "applicability": 24, "effectiveness": 33.5}, "submit": True},
    )
    assert scored["sheet"]["total"] == 82.5
    # The website sees the entry and its history, never a score.
    seen = await call(gateway, "GET", f"/contests/entries/{mine['id']}", website)
    assert seen["result"] is None and seen["status"] == "screened_in"
    listed = await call(gateway, "GET", "/contests/editions", {})
    assert [e["code"] for e in listed["items"]] == ["STKT10"]
