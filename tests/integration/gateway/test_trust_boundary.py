"""The gateway's part of the trust boundary (issue 10): the secret it starts with, staff
tokens checked against the stored account, lock-outs that tell nobody which accounts
exist, the password rules, the last administrator, /metrics behind credentials, no
500 for bad input, and problems in the reader's language."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from deploy.local.embedded_store import free_port
from services.gateway import credentials
from services.gateway.app import create_app
from shared.api import Api
from shared.settings import DEV_SECRET
from tests.integration.gateway.conftest import ADMIN_PASSWORD, login, new_key

pytestmark = pytest.mark.integration
EN = {"Accept-Language": "en"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_staff(gateway, admin, username, role="manager", org="hoi-tin-hoc", password=None):
    password = password or f"{username}-password-long"
    resp = await gateway.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={"username": username, "password": password, "role": role, **({"organization_id": org} if org else {})},
    )
    assert resp.status == 201, await resp.text()
    return password


# --- item 5: the secret, and tokens checked against the stored account ------------------


@pytest.mark.parametrize("secret", [DEV_SECRET, "short-but-not-the-default"])
async def test_the_gateway_refuses_to_start_with_a_weak_secret_outside_development_mode(gw_settings, secret):
    for development_mode, refused in ((False, True), (True, False)):
        app = create_app(
            gw_settings.model_copy(update={"internal_identity_secret": secret, "development_mode": development_mode})
        )
        runner = web.AppRunner(app)
        if refused:
            with pytest.raises(SystemExit, match="INTERNAL_IDENTITY_SECRET"):
                await runner.setup()
        else:
            await runner.setup()
            await runner.cleanup()


async def test_a_re_signed_token_cannot_raise_its_role_or_change_its_organisation(gateway, admin, gw_settings):
    password = await add_staff(gateway, admin, "lan")
    token = (await login(gateway, "lan", password))["access_token"]
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(token))).status == 200
    signer = gw_settings.signer(credentials.STAFF_TOKEN_PURPOSE)  # as if the key had leaked
    claims = credentials.verify_staff_token(token, signer, 0)
    for role, org in (("admin", None), ("manager", "hoi-y-hoc")):
        forged = credentials.sign_staff_token(credentials.StaffClaims("lan", role, org, claims.sid, claims.exp), signer)
        resp = await gateway.get("/api/v1/admin/staff", headers=bearer(forged))
        assert resp.status == 401, (role, org)
        assert (await gateway.get("/api/v1/members", headers=bearer(forged))).status == 401


async def test_a_role_change_or_a_disabled_account_takes_effect_at_once(gateway, admin):
    password = await add_staff(gateway, admin, "minh", role="admin", org=None)
    token = (await login(gateway, "minh", password))["access_token"]
    assert (await gateway.get("/api/v1/admin/staff", headers=bearer(token))).status == 200
    demoted = await gateway.patch(
        "/api/v1/admin/staff/minh", headers=admin, json={"role": "manager", "organization_id": "hoi-tin-hoc"}
    )
    assert demoted.status == 200 and (await demoted.json())["role"] == "manager"
    assert (await gateway.get("/api/v1/admin/staff", headers=bearer(token))).status == 401
    token = (await login(gateway, "minh", password))["access_token"]
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(token))).status == 200
    assert (await gateway.delete("/api/v1/admin/staff/minh", headers=admin)).status == 200
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(token))).status == 401


# --- item 6: lock-outs, passwords, the last administrator, re-enabling, metrics -----------


async def test_locked_and_unknown_users_get_the_same_answers(make_gateway):
    gateway = await make_gateway(gateway_lockout_attempts=3, gateway_login_burst=50)
    admin = bearer((await login(gateway, "admin", ADMIN_PASSWORD))["access_token"])
    await add_staff(gateway, admin, "hoa", role="admin", org=None, password="the-right-password")

    async def answers(username: str, password: str) -> list[tuple[int, str, str | None]]:
        out = []
        for _ in range(5):
            resp = await gateway.post("/api/v1/auth/login", json={"username": username, "password": password})
            body = await resp.json()
            out.append((resp.status, body["type"], body.get("detail"), "retry_after_seconds" in body))
        return out

    existing = await answers("hoa", "wrong-password")
    unknown = await answers("nobody-here", "wrong-password")
    assert existing == unknown
    assert [status for status, *_ in existing] == [401, 401, 401, 423, 423]


async def test_passwords_refuse_the_username_common_ones_and_short_ones_in_either_language(gateway, admin):
    cases = {
        "lan.nguyen12": "password_is_username",  # the username itself
        "Lan.Nguyen12!!": "password_is_username",  # …with capitals and symbols
        "password1234": "password_too_common",
        "PÁSSWORD1234": "password_too_common",  # folded: case and diacritics do not help
        "qwerty123456!": "password_too_common",
        "abcabcabcabc": "password_too_common",
    }
    for password, code in cases.items():
        body = {"username": "lan.nguyen12", "password": password, "role": "admin"}
        resp = await gateway.post("/api/v1/admin/staff", headers=admin, json=body)
        assert resp.status == 422, password
        problem = await resp.json()
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [("password", code)], password
        english = await (await gateway.post("/api/v1/admin/staff", headers={**admin, **EN}, json=body)).json()
        assert english["errors"][0]["message"] != problem["errors"][0]["message"]
    short = await gateway.post(
        "/api/v1/admin/staff", headers=admin, json={"username": "lan", "password": "ngắn-quá", "role": "admin"}
    )
    assert short.status == 422 and (await short.json())["errors"][0]["message"] == "Cần ít nhất 12 ký tự"
    change = await gateway.post(
        "/api/v1/auth/password",
        headers={**admin, **EN},
        json={"current_password": ADMIN_PASSWORD, "new_password": "Admin2024!!!!"},
    )
    assert change.status == 422
    assert (await change.json())["errors"][0] == {
        "field": "new_password",
        "in": "body",
        "message": "The password must not be the username (even with digits or symbols added)",
        "code": "password_is_username",
    }
    await add_staff(gateway, admin, "tam")
    reset = await gateway.post("/api/v1/admin/staff/tam/password", headers=admin, json={"new_password": "iloveyou1234"})
    assert reset.status == 422 and (await reset.json())["errors"][0]["code"] == "password_too_common"


async def test_the_last_active_administrator_can_be_neither_disabled_nor_demoted(gateway, admin):
    for method, body in (("DELETE", None), ("PATCH", {"role": "manager", "organization_id": "hoi-tin-hoc"})):
        resp = await gateway.request(method, "/api/v1/admin/staff/admin", headers=admin, json=body)
        assert resp.status == 409 and (await resp.json())["type"].endswith("/last-admin"), method
    assert (await gateway.get("/api/v1/auth/me", headers=admin)).status == 200  # nothing changed
    await add_staff(gateway, admin, "khanh", role="admin", org=None)
    disabled_second = await gateway.delete("/api/v1/admin/staff/khanh", headers=admin)
    assert disabled_second.status == 200
    assert (await gateway.delete("/api/v1/admin/staff/admin", headers=admin)).status == 409
    assert (await gateway.post("/api/v1/admin/staff/khanh/enable", headers=admin)).status == 200
    demoted = await gateway.patch(
        "/api/v1/admin/staff/admin", headers=admin, json={"role": "manager", "organization_id": "hoi-tin-hoc"}
    )
    assert demoted.status == 200  # another administrator is active now


async def test_an_administrator_re_enables_an_account_and_sets_a_forgotten_password(gateway, admin):
    password = await add_staff(gateway, admin, "phuc")
    token = (await login(gateway, "phuc", password))["access_token"]
    assert (await gateway.delete("/api/v1/admin/staff/phuc", headers=admin)).status == 200
    refused = await gateway.post("/api/v1/auth/login", json={"username": "phuc", "password": password})
    assert refused.status == 401
    enabled = await gateway.post("/api/v1/admin/staff/phuc/enable", headers=admin)
    assert enabled.status == 200 and (await enabled.json())["disabled"] is False
    token = (await login(gateway, "phuc", password))["access_token"]
    reset = await gateway.post(
        "/api/v1/admin/staff/phuc/password", headers=admin, json={"new_password": "một mật khẩu mới dài"}
    )
    assert reset.status == 200
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(token))).status == 401  # its logins ended
    await login(gateway, "phuc", "một mật khẩu mới dài")


async def test_metrics_need_credentials_on_the_public_port_and_not_on_the_internal_one(make_gateway, aiohttp_client):
    port = free_port()
    gateway = await make_gateway(gateway_metrics_port=port)
    admin = bearer((await login(gateway, "admin", ADMIN_PASSWORD))["access_token"])
    anonymous = await gateway.get("/metrics")
    assert anonymous.status == 401 and anonymous.content_type == "application/problem+json"
    reader = await new_key(gateway, admin, ["members:read"])
    assert (await gateway.get("/metrics", headers=bearer(reader["key"]))).status == 403
    scraper = await new_key(gateway, admin, ["metrics:read"])
    for path in ("/metrics", "/api/v1/metrics"):
        for headers in (admin, bearer(scraper["key"])):
            resp = await gateway.get(path, headers=headers)
            assert resp.status == 200 and "lienhiep_http_requests_total" in await resp.text(), path
    async with gateway.session.get(f"http://127.0.0.1:{port}/metrics") as internal:
        assert internal.status == 200 and "lienhiep_http_requests_total" in await internal.text()


async def test_partners_read_no_staff_usernames_or_other_partners_keys(gateway, admin):
    other = await new_key(gateway, admin, ["members:read"])
    partner = bearer((await new_key(gateway, admin, ["members:read", "events:read"]))["key"])
    seen = []
    for path in ("/api/v1/auth/me", "/api/v1/admin/api-keys", "/api/v1/admin/staff", "/api/v1/stats/traffic"):
        resp = await gateway.get(path, headers=partner)
        seen.append(await resp.text())
    text = "\n".join(seen)
    assert "admin" not in text.replace('"required": "admin"', "") and other["id"] not in text


# --- item 7: no 500 for bad input at the gateway ---------------------------------------------


async def test_deep_huge_or_broken_json_is_a_400_never_a_500(gateway, admin):
    bodies = [
        "[" * 100_000 + "]" * 100_000,  # deeper than the parser goes
        '{"full_name": ' + "[" * 200 + "]" * 200 + "}",  # parses, but deeper than any of our documents
        '{"full_name": ' + "1" * 5_000 + "}",  # a number of more digits than Python converts
        b'{"full_name": "\xff\xfe"}',
        '{"full_name": "x"',
    ]
    for body in bodies:
        resp = await gateway.post("/api/v1/members", headers={**admin, "Content-Type": "application/json"}, data=body)
        assert resp.status == 400, str(body)[:40]
        assert (await resp.json())["type"].endswith("/malformed-json")


async def test_odd_input_at_the_front_door_never_makes_a_500(gateway, admin):
    deep_operators = {"$" + "k" * 1000: None}
    for _ in range(60):
        deep_operators = {"$" + "k" * 1000: deep_operators}
    cases = [
        ("POST", "/api/v1/auth/login", {"Content-Type": "application/json"}, json.dumps(deep_operators)),
        ("POST", "/api/v1/auth/login", {"Content-Type": "application/json"}, '{"username": 1e999, "password": []}'),
        ("GET", "/api/v1/members?" + "&".join(f"$k{i}=1" for i in range(300)), admin, None),
        ("GET", "/api/v1/members/%ff%fe", admin, None),
        ("GET", "/api/v1/auth/me", {"Authorization": "Bearer lhs.\u00e9\u00e9.\u00e9"}, None),
        ("GET", "/api/v1/auth/me", {"Authorization": "Bearer lhs." + "A" * 5000}, None),
        ("GET", "/api/v1/members", {"X-API-Key": "lh_12345678_" + "é" * 40}, None),
        ("GET", "/api/v1/members", {**admin, "Accept-Language": "vi;q=abc, en;q=" + "9" * 400}, None),
        ("DELETE", "/api/v1/admin/api-keys/" + "x" * 120, admin, None),
        ("POST", "/api/v1/admin/staff/%00/enable", admin, None),
    ]
    for method, path, headers, body in cases:
        resp = await gateway.request(method, path, headers=headers, data=body)
        assert resp.status < 500, (method, path[:60], resp.status, await resp.text())
        assert len(await resp.read()) < 40_000, path[:60]


# --- item 12: the reader's language ------------------------------------------------------------


async def test_gateway_problems_are_vietnamese_by_default_and_english_on_request(gateway, admin):
    requests = [
        ("GET", "/api/v1/members", {}, None),  # no credentials
        ("GET", "/api/v1/khong-co", {}, None),  # no such route
        ("GET", "/api/v1/events", admin, None),  # the events service is down
        ("POST", "/api/v1/auth/login", {}, {"username": "nobody", "password": "x"}),
        ("POST", "/api/v1/admin/staff", admin, {"username": "x"}),
    ]
    for method, path, headers, body in requests:
        vi = await (await gateway.request(method, path, headers=headers, json=body)).json()
        en = await (await gateway.request(method, path, headers={**headers, **EN}, json=body)).json()
        assert vi["type"] == en["type"] and vi["title"] != en["title"], path
        assert vi.get("detail") != en.get("detail") or "errors" in vi, path
    vi = await (await gateway.get("/api/v1/members")).json()
    assert vi["title"] == "Chưa đăng nhập" and vi["detail"].startswith("Hãy gửi khoá API")


async def test_accept_language_reaches_the_service(make_gateway, aiohttp_server):
    heard: list[str | None] = []

    async def echo(request: web.Request) -> web.Response:
        heard.append(request.headers.get("Accept-Language"))
        return web.json_response({"items": []})

    stand_in = web.Application()
    stand_in.router.add_get("/events", echo)
    server = await aiohttp_server(stand_in)
    declared = Api("events")
    declared.endpoint("list_events", "GET", "/events", summary="list", scope="events:read")
    gateway = await make_gateway({"events": declared}, events_url=str(server.make_url("")).rstrip("/"))
    admin = bearer((await login(gateway, "admin", ADMIN_PASSWORD))["access_token"])
    assert (await gateway.get("/api/v1/events", headers={**admin, "Accept-Language": "en-GB,en;q=0.8"})).status == 200
    assert heard == ["en-GB,en;q=0.8"]
