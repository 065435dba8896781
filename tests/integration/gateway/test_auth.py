"""Who is calling: staff logins and partner keys, through the real gateway in front
of the real membership service, on the embedded store."""

from __future__ import annotations

import time

import pytest

from services.gateway import credentials
from services.gateway.app import FRONT
from shared.tokens import Signer
from tests.integration.gateway.conftest import ADMIN_PASSWORD, login, new_key
from tests.support import eventually

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


EN = {"Accept-Language": "en"}  # these assertions read the English texts (Vietnamese is the default)


async def test_the_bootstrap_admin_logs_in_and_creates_a_manager_who_logs_in_too(gateway, admin):
    me = await (await gateway.get("/api/v1/auth/me", headers=admin)).json()
    assert me == {"username": "admin", "role": "admin", "organization_id": None}
    resp = await gateway.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={
            "username": "lan.nguyen",
            "password": "mật-khẩu-đủ-dài",
            "role": "manager",
            "organization_id": "hoi-tin-hoc",
        },
    )
    assert resp.status == 201, await resp.text()
    staff = await resp.json()
    assert staff["role"] == "manager" and "password" not in str(staff) and "hash" not in str(staff)
    stored = await gateway.app[FRONT].callers.store.staff_member("lan.nguyen")
    assert stored["password_hash"].startswith("$argon2id$") and "mật-khẩu" not in str(stored)
    out = await login(gateway, "Lan.Nguyen", "mật-khẩu-đủ-dài")
    assert out["token_type"] == "Bearer" and out["expires_in"] == 900
    assert out["user"] == {"username": "lan.nguyen", "role": "manager", "organization_id": "hoi-tin-hoc"}
    assert (await gateway.get("/api/v1/members", headers=bearer(out["access_token"]))).status == 200
    # a manager is staff, not an administrator
    assert (await gateway.get("/api/v1/admin/staff", headers=bearer(out["access_token"]))).status == 403
    listed = await (await gateway.get("/api/v1/admin/staff", headers=admin)).json()
    assert [s["username"] for s in listed["items"]] == ["admin", "lan.nguyen"]


async def test_a_manager_needs_an_organisation_and_a_long_password(gateway, admin):
    resp = await gateway.post(
        "/api/v1/admin/staff", headers=admin, json={"username": "minh", "password": "short", "role": "manager"}
    )
    assert resp.status == 422
    fields = {e["field"] for e in (await resp.json())["errors"]}
    assert "password" in fields
    resp = await gateway.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={"username": "minh", "password": "long-enough-password", "role": "manager"},
    )
    assert resp.status == 422 and "organization_id" in (await resp.text())
    dup = await gateway.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={"username": "admin", "password": "long-enough-password", "role": "admin"},
    )
    assert dup.status == 409 and (await dup.json())["field"] == "username"


async def test_logout_ends_the_token_at_once(gateway, admin):
    assert (await gateway.post("/api/v1/auth/logout", headers=admin)).status == 204
    resp = await gateway.get("/api/v1/members", headers={**admin, **EN})
    assert resp.status == 401
    assert (await resp.json())["detail"] == "This login has ended; log in again"


async def test_repeated_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(make_gateway):
    gateway = await make_gateway(gateway_lockout_attempts=3, gateway_login_burst=20)
    admin = bearer((await login(gateway, "admin", ADMIN_PASSWORD))["access_token"])
    await gateway.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={"username": "hoa", "password": "the-right-password", "role": "admin"},
    )
    for _ in range(3):
        resp = await gateway.post(
            "/api/v1/auth/login", headers=EN, json={"username": "hoa", "password": "wrong-password"}
        )
        assert resp.status == 401 and (await resp.json())["detail"] == "Wrong username or password"
    locked = await gateway.post("/api/v1/auth/login", json={"username": "hoa", "password": "the-right-password"})
    assert locked.status == 423 and (await locked.json())["type"].endswith("/account-locked")
    staff = {
        s["username"]: s for s in (await (await gateway.get("/api/v1/admin/staff", headers=admin)).json())["items"]
    }
    assert staff["hoa"]["locked"] is True
    assert (await gateway.post("/api/v1/admin/staff/hoa/unlock", headers=admin)).status == 200
    await login(gateway, "hoa", "the-right-password")


async def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(gateway):
    resp = await gateway.post("/api/v1/auth/login", headers=EN, json={"username": "nobody", "password": "whatever"})
    assert resp.status == 401 and (await resp.json())["detail"] == "Wrong username or password"


async def test_disabling_a_staff_account_ends_its_logins(gateway, admin):
    await gateway.post(
        "/api/v1/admin/staff", headers=admin, json={"username": "tuan", "password": "tuan-password-1", "role": "admin"}
    )
    token = (await login(gateway, "tuan", "tuan-password-1"))["access_token"]
    resp = await gateway.delete("/api/v1/admin/staff/tuan", headers=admin)
    assert resp.status == 200 and (await resp.json())["disabled"] is True
    assert (await gateway.get("/api/v1/members", headers=bearer(token))).status == 401
    resp = await gateway.post("/api/v1/auth/login", json={"username": "tuan", "password": "tuan-password-1"})
    assert resp.status == 401


async def test_a_partner_key_is_shown_once_stored_hashed_and_works_by_scope(gateway, admin):
    created = await new_key(gateway, admin, ["members:read", "events:read"])
    key = created["key"]
    assert key.startswith(f"lh_{created['id']}_") and created["scopes"] == ["events:read", "members:read"]
    listed = await (await gateway.get("/api/v1/admin/api-keys", headers=admin)).json()
    assert key not in str(listed) and listed["items"][0]["id"] == created["id"]
    stored = await gateway.app[FRONT].callers.store.key(created["id"])
    assert key not in str(stored) and stored["hash"] != key

    assert (await gateway.get("/api/v1/members", headers=bearer(key))).status == 200
    assert (await gateway.get("/api/v1/members", headers={"X-API-Key": key})).status == 200
    refused = await gateway.post("/api/v1/members", headers=bearer(key), json={"full_name": "Lê Văn Tám"})
    assert refused.status == 403 and (await refused.json())["required"] == "members:write"

    async def last_used():
        items = (await (await gateway.get("/api/v1/admin/api-keys", headers=admin)).json())["items"]
        return items[0]["last_used_at"]

    assert await eventually(last_used, what="last use recorded")


async def test_a_revoked_key_stops_working_at_once(gateway, admin):
    created = await new_key(gateway, admin, ["members:read"])
    assert (await gateway.get("/api/v1/members", headers=bearer(created["key"]))).status == 200
    resp = await gateway.delete(f"/api/v1/admin/api-keys/{created['id']}", headers=admin)
    assert resp.status == 200 and (await resp.json())["revoked_at"]
    resp = await gateway.get("/api/v1/members", headers={**bearer(created["key"]), **EN})
    assert resp.status == 401 and "revoked" in (await resp.json())["detail"]
    assert (await gateway.delete("/api/v1/admin/api-keys/00000000", headers=admin)).status == 404


async def test_keys_get_only_known_scopes(gateway, admin):
    resp = await gateway.post(
        "/api/v1/admin/api-keys", headers=admin, json={"name": "x", "scopes": ["members:read", "root"]}
    )
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["scopes.1"]


async def test_missing_malformed_forged_and_expired_credentials_are_refused(gateway, admin, gw_settings):
    anon = await gateway.get("/api/v1/members")
    assert anon.status == 401 and anon.headers["WWW-Authenticate"].startswith("Bearer")
    key_like = "lh_0123abcd_" + "A" * 43
    expired = credentials.sign_staff_token(
        credentials.StaffClaims("admin", "admin", None, "sid", time.time() - 1),
        gw_settings.signer(credentials.STAFF_TOKEN_PURPOSE),
    )
    forged = credentials.sign_staff_token(
        credentials.StaffClaims("admin", "admin", None, "sid", time.time() + 600),
        Signer("guessed", credentials.STAFF_TOKEN_PURPOSE),
    )
    for headers in (
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        bearer("nonsense"),
        bearer(key_like),
        bearer(expired),
        bearer(forged),
        {"X-API-Key": "lh_"},
    ):
        resp = await gateway.get("/api/v1/members", headers=headers)
        assert resp.status == 401, headers
        assert resp.content_type == "application/problem+json"


async def test_the_signed_identity_and_request_id_reach_the_service(gateway, admin):
    resp = await gateway.post(
        "/api/v1/members",
        headers={**admin, "X-Request-ID": "gw-req-7"},
        json={"full_name": "Trần Thị Bích", "email": "bich.tran@example.vn"},
    )
    assert resp.status == 201, await resp.text()
    assert resp.headers["X-Request-ID"] == "gw-req-7"
    assert (await resp.json())["created_by"] == "staff:admin"
    assert resp.headers["Location"].startswith("/api/v1/members/")


async def test_a_stale_token_does_not_stop_anyone_logging_in_again(gateway, admin):
    await gateway.post("/api/v1/auth/logout", headers=admin)
    resp = await gateway.post(
        "/api/v1/auth/login", headers=admin, json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert resp.status == 200
    assert (await gateway.get("/api/v1/members", headers=admin)).status == 401


async def test_head_is_answered_wherever_get_is(gateway, admin):
    resp = await gateway.head("/api/v1/members", headers=admin)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/json")


async def test_staff_change_their_password_and_every_login_of_theirs_ends(gateway, admin):
    wrong = await gateway.post(
        "/api/v1/auth/password",
        headers=admin,
        json={"current_password": "not-it", "new_password": "a-new-long-password"},
    )
    assert wrong.status == 400 and (await wrong.json())["field"] == "current_password"
    short = await gateway.post(
        "/api/v1/auth/password", headers=admin, json={"current_password": ADMIN_PASSWORD, "new_password": "short"}
    )
    assert short.status == 422
    resp = await gateway.post(
        "/api/v1/auth/password",
        headers=admin,
        json={"current_password": ADMIN_PASSWORD, "new_password": "a-new-long-password"},
    )
    assert resp.status == 204
    assert (await gateway.get("/api/v1/auth/me", headers=admin)).status == 401
    assert (
        await gateway.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    ).status == 401
    await login(gateway, "admin", "a-new-long-password")
