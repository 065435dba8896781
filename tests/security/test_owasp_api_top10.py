"""The OWASP API Security Top 10 (2023), as it applies to LienHiep's front door.

Each test names the risk it walks. The gateway runs in process in front of the real
membership service; events and notifications sit behind a closed port.
"""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from services.gateway.openapi import PUBLIC_APIS
from shared.identity import HEADER
from tests.integration.gateway.conftest import ADMIN_PASSWORD, login, new_key

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def staff(gateway, admin, username: str, role: str, organization_id: str | None) -> dict[str, str]:
    resp = await gateway.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={
            "username": username,
            "password": f"{username}-password-1",
            "role": role,
            **({"organization_id": organization_id} if organization_id else {}),
        },
    )
    assert resp.status == 201, await resp.text()
    return bearer((await login(gateway, username, f"{username}-password-1"))["access_token"])


# --- API1 Broken object-level authorisation -------------------------------------------


async def org(gateway, admin, code: str, kind: str, parent_id: str | None = None) -> str:
    resp = await gateway.post(
        "/api/v1/organizations",
        headers=admin,
        json={"code": code, "name": f"Đơn vị {code}", "kind": kind, **({"parent_id": parent_id} if parent_id else {})},
    )
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def test_api1_a_manager_reaches_only_their_own_associations_members(gateway, admin):
    root = await org(gateway, admin, "LHH-TINH", "federation")
    hoi_a, hoi_b = (
        await org(gateway, admin, "HOI-A", "association", root),
        await org(gateway, admin, "HOI-B", "association", root),
    )
    theirs = await (
        await gateway.post(
            "/api/v1/members", headers=admin, json={"full_name": "Hồ Văn Nam", "organization_ids": [hoi_b]}
        )
    ).json()
    manager = await staff(gateway, admin, "quan.ly", "manager", hoi_a)
    ours = await gateway.post(
        "/api/v1/members", headers=manager, json={"full_name": "Đinh Thị Hoa", "organization_ids": [hoi_a]}
    )
    assert ours.status == 201, await ours.text()
    assert (await ours.json())["created_by"] == "staff:quan.ly"
    assert (await gateway.get(f"/api/v1/members/{(await ours.json())['id']}", headers=manager)).status == 200

    for method, path, body in (
        ("GET", f"/api/v1/members/{theirs['id']}", None),
        ("PATCH", f"/api/v1/members/{theirs['id']}", {"full_name": "Bị Sửa"}),
        ("GET", f"/api/v1/members?organization_id={hoi_b}", None),
        ("POST", "/api/v1/members", {"full_name": "Cài Cắm", "organization_ids": [hoi_b]}),
    ):
        resp = await gateway.request(method, path, headers=manager, json=body)
        assert resp.status in (403, 404), (method, path, resp.status)
        assert resp.content_type == "application/problem+json"
    listed = await (await gateway.get("/api/v1/members", headers=manager)).json()
    assert theirs["id"] not in {m["id"] for m in listed["items"]}


async def test_api1_the_organisation_travels_only_in_the_signed_identity(gateway, admin):
    forged = {**admin, HEADER: "eyJzdWIiOiJzdGFmZjpyb290In0.AAAA"}
    resp = await gateway.post("/api/v1/members", headers=forged, json={"full_name": "Hồ Văn Bắc"})
    assert resp.status == 201 and (await resp.json())["created_by"] == "staff:admin"  # the caller's header is dropped
    bound = await new_key(gateway, admin, ["members:read"], organization_id="hoi-a")
    assert bound["organization_id"] == "hoi-a"


# --- API2 Broken authentication -------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Token abc"},
        bearer("lhs.e30.AAAA"),
        bearer("lh_deadbeef_" + "x" * 43),
        {"X-API-Key": "' OR 1=1 --"},
    ],
)
async def test_api2_requests_without_valid_credentials_get_401_problem_json(gateway, headers):
    resp = await gateway.get("/api/v1/members", headers=headers)
    assert resp.status == 401
    body = await resp.json(content_type="application/problem+json")
    assert body["type"].endswith("/unauthenticated") and body["status"] == 401


async def test_api2_login_is_rate_limited_per_client_address(make_gateway):
    gateway = await make_gateway(gateway_login_burst=3, gateway_login_rate_per_minute=1.0)
    statuses = []
    for i in range(5):
        resp = await gateway.post("/api/v1/auth/login", json={"username": f"u{i}", "password": "guess"})
        statuses.append(resp.status)
    assert statuses == [401, 401, 401, 429, 429]
    assert int(resp.headers["Retry-After"]) >= 1


# --- API3 Broken object property level authorisation (mass assignment) ----------------


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/members", {"full_name": "Lý Thị Mai", "role": "admin"}, "role"),
        ("/api/v1/members", {"full_name": "Lý Thị Mai", "is_admin": True}, "is_admin"),
        ("/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD, "role": "admin"}, "role"),
        ("/api/v1/admin/api-keys", {"name": "p", "scopes": ["members:read"], "revoked_at": None}, "revoked_at"),
    ],
)
async def test_api3_fields_the_caller_may_not_set_are_refused(gateway, admin, path, body, field):
    resp = await gateway.post(path, headers=admin, json=body)
    assert resp.status == 422
    assert field in {e["field"] for e in (await resp.json())["errors"]}


async def test_api3_secrets_never_come_back(gateway, admin):
    created = await new_key(gateway, admin, ["members:read"])
    listing = await (await gateway.get("/api/v1/admin/api-keys", headers=admin)).text()
    staff_list = await (await gateway.get("/api/v1/admin/staff", headers=admin)).text()
    assert created["key"] not in listing and "hash" not in listing
    assert "argon2" not in staff_list and "password" not in staff_list


# --- API4 Unrestricted resource consumption -------------------------------------------


async def test_api4_callers_are_rate_limited_with_headers_that_say_when_to_retry(make_gateway):
    gateway = await make_gateway(gateway_rate_burst=5, gateway_rate_per_second=0.5)
    token = (await login(gateway, "admin", ADMIN_PASSWORD))["access_token"]  # the first of five
    statuses = [(await gateway.get("/api/v1/members", headers=bearer(token))).status for _ in range(4)]
    resp = await gateway.get("/api/v1/members", headers=bearer(token))
    assert statuses[-1] == 200 and resp.status == 429
    body = await resp.json(content_type="application/problem+json")
    assert body["type"].endswith("/rate-limited")
    assert int(resp.headers["Retry-After"]) >= 1 and resp.headers["RateLimit-Remaining"] == "0"
    assert resp.headers["RateLimit-Limit"] == "5"


async def test_api4_bodies_over_the_route_limit_get_413(make_gateway):
    gateway = await make_gateway(gateway_body_bytes=2048)
    token = (await login(gateway, "admin", ADMIN_PASSWORD))["access_token"]
    big = json.dumps({"full_name": "A" * 5000})
    resp = await gateway.post(
        "/api/v1/members", headers={**bearer(token), "Content-Type": "application/json"}, data=big
    )
    assert resp.status == 413 and (await resp.json())["max_bytes"] == 2048

    async def chunks():  # no Content-Length: counted while it streams
        for _ in range(10):
            yield b" " * 1024

    resp = await gateway.post(
        "/api/v1/members", headers={**bearer(token), "Content-Type": "application/json"}, data=chunks()
    )
    assert resp.status == 413


async def test_api4_page_sizes_are_capped(gateway, admin):
    resp = await gateway.get("/api/v1/members", headers=admin, params={"limit": "100000"})
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "limit"


# --- API5 Broken function-level authorisation -----------------------------------------


async def test_api5_no_partner_key_reaches_admin_routes_and_scopes_are_enforced(gateway, admin):
    everything = sorted({ep.scope for api in PUBLIC_APIS.values() for ep in api.endpoints if ep.scope})
    key = bearer((await new_key(gateway, admin, everything))["key"])
    for method, path in (
        ("GET", "/api/v1/admin/api-keys"),
        ("GET", "/api/v1/admin/staff"),
        ("POST", "/api/v1/admin/api-keys"),
    ):
        resp = await gateway.request(method, path, headers=key, json={"name": "x", "scopes": ["members:read"]})
        assert resp.status == 403, path
        assert (await resp.json())["required"] == "admin"
    reader = bearer((await new_key(gateway, admin, ["members:read"]))["key"])
    assert (await gateway.post("/api/v1/members", headers=reader, json={"full_name": "Ngô Bảo"})).status == 403


async def test_api5_managers_do_not_reach_admin_routes(gateway, admin):
    manager = await staff(gateway, admin, "manager.b", "manager", "hoi-b")
    assert (
        await gateway.post("/api/v1/admin/api-keys", headers=manager, json={"name": "x", "scopes": ["members:read"]})
    ).status == 403
    assert (
        await gateway.post(
            "/api/v1/admin/staff",
            headers=manager,
            json={"username": "evil", "password": "evil-password-1", "role": "admin"},
        )
    ).status == 403


# --- API8 Security misconfiguration (injection, CORS, error bodies) -------------------


async def test_api8_operator_payloads_never_reach_the_store(gateway, admin):
    resp = await gateway.post("/api/v1/members", headers=admin, json={"full_name": "X Y", "email": {"$ne": None}})
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "email.$ne"
    resp = await gateway.post("/api/v1/auth/login", json={"username": {"$gt": ""}, "password": "x"})
    assert resp.status == 422
    for query in ({"status[$ne]": "x"}, {"$where": "1"}, {"limit[$gt]": "0"}):
        resp = await gateway.get("/api/v1/members", headers=admin, params=query)
        assert resp.status == 422, query
        assert (await resp.json())["errors"][0]["in"] == "query"


async def test_api8_cors_only_for_configured_origins(gateway, admin):
    allowed = await gateway.get("/api/v1/members", headers={**admin, "Origin": "https://portal.example.vn"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://portal.example.vn"
    other = await gateway.get("/api/v1/members", headers={**admin, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = await gateway.options("/api/v1/members", headers={**preflight, "Origin": "https://portal.example.vn"})
    assert ok.status == 204 and "POST" in ok.headers["Access-Control-Allow-Methods"]
    refused = await gateway.options("/api/v1/members", headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers


async def test_api8_errors_are_problem_json_without_internals(gateway, admin):
    cases = [
        await gateway.get("/api/v1/events", headers=admin),  # service down
        await gateway.get("/api/v1/members/%00", headers=admin),  # odd id
        await gateway.post("/api/v1/members", headers={**admin, "Content-Type": "application/json"}, data="{"),
        await gateway.post("/api/v1/members", headers={**admin, "Content-Type": "text/plain"}, data="x"),
        await gateway.get("/api/v1/does-not-exist"),
        await gateway.patch("/api/v1/members", headers=admin),
    ]
    assert [r.status for r in cases] == [503, 404, 400, 415, 404, 405]
    for resp in cases:
        assert resp.content_type == "application/problem+json"
        text = await resp.text()
        assert "Traceback" not in text and "127.0.0.1" not in text and 'File "' not in text
        body = json.loads(text)
        assert body["type"].startswith("https://lienhiep.vn/problems/") and body["status"] == resp.status
        assert resp.headers["X-Request-ID"]
        assert "Server" not in resp.headers and resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_api8_a_failing_service_opens_the_circuit(gateway, admin):
    for _ in range(3):
        assert (await gateway.get("/api/v1/events", headers=admin)).status == 503
    resp = await gateway.get("/api/v1/events", headers={**admin, "Accept-Language": "en"})  # English words
    assert resp.status == 503 and "failing" in (await resp.json())["detail"]
    assert int(resp.headers["Retry-After"]) >= 1


# --- API9 Improper inventory management -----------------------------------------------


async def test_api9_every_answering_route_is_documented_and_nothing_else_answers(gateway, admin):
    doc = await (await gateway.get("/api/v1/openapi.json")).json()
    validate(doc)
    declared = {(ep.method.lower(), f"/api/v1{ep.path}") for api in PUBLIC_APIS.values() for ep in api.endpoints}
    assert declared == {(m, p) for p, item in doc["paths"].items() for m in item}
    for path in (
        "/api/v1/internal",
        "/api/v1/members/x/raw",
        "/api/v0/members",
        "/members",
        "/api/v1/admin",
        "/api/v1/admin/debug",
        "/.env",
        "/api/v1/openapi.yaml",
    ):
        resp = await gateway.get(path, headers=admin)
        assert resp.status == 404, path
        assert resp.content_type == "application/problem+json"


async def test_api4_client_addresses_come_from_trusted_proxies_only(make_gateway):
    behind_proxy = await make_gateway(
        gateway_rate_burst=2, gateway_rate_per_second=0.1, gateway_trusted_proxies="127.0.0.1"
    )
    first = {"X-Forwarded-For": "198.51.100.7"}
    assert [(await behind_proxy.get("/api/v1/openapi.json", headers=first)).status for _ in range(3)] == [200, 200, 429]
    other = {"X-Forwarded-For": "198.51.100.7, 203.0.113.20"}  # the proxy appends the address it saw
    assert (await behind_proxy.get("/api/v1/openapi.json", headers=other)).status == 200
    direct = await make_gateway(gateway_rate_burst=2, gateway_rate_per_second=0.1)
    spoofed = [
        (await direct.get("/api/v1/openapi.json", headers={"X-Forwarded-For": f"192.0.2.{i}"})).status for i in range(3)
    ]
    assert spoofed == [200, 200, 429]  # an untrusted caller cannot pick a fresh address per request


async def test_api4_floods_of_unknown_paths_are_rate_limited_too(make_gateway):
    gateway = await make_gateway(gateway_rate_burst=3, gateway_rate_per_second=0.1)
    statuses = [(await gateway.get(f"/api/v1/probe-{i}")).status for i in range(4)]
    assert statuses == [404, 404, 404, 429]
