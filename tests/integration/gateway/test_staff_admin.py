"""Administrators look after staff accounts: change a role, set a forgotten password,
enable a disabled account again."""

from __future__ import annotations

import pytest

from tests.integration.gateway.conftest import ADMIN_PASSWORD, login

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add(gateway, admin, username: str, role: str = "manager", org: str | None = "hoi-tin-hoc") -> None:
    resp = await gateway.post(
        "/api/v1/admin/staff",
        headers=admin,
        json={
            "username": username,
            "password": f"{username}-password-long",
            "role": role,
            **({"organization_id": org} if org else {}),
        },
    )
    assert resp.status == 201, await resp.text()


async def test_a_new_role_applies_from_the_next_login(gateway, admin):
    await add(gateway, admin, "mai")
    token = (await login(gateway, "mai", "mai-password-long"))["access_token"]
    resp = await gateway.patch("/api/v1/admin/staff/mai", headers=admin, json={"role": "admin"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["role"] == "admin" and (await resp.json())["organization_id"] is None
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(token))).status == 401
    again = await login(gateway, "mai", "mai-password-long")
    assert again["user"]["role"] == "admin"


async def test_a_manager_role_needs_an_organisation(gateway, admin):
    await add(gateway, admin, "khoa", role="admin", org=None)
    resp = await gateway.patch("/api/v1/admin/staff/khoa", headers=admin, json={"role": "manager"})
    assert resp.status == 422 and "organization_id" in await resp.text()
    resp = await gateway.patch("/api/v1/admin/staff/nobody", headers=admin, json={"role": "admin"})
    assert resp.status == 404


async def test_an_administrator_sets_a_forgotten_password_which_also_lifts_a_lock(make_gateway):
    gateway = await make_gateway(gateway_lockout_attempts=2, gateway_login_burst=20)
    admin = bearer((await login(gateway, "admin", ADMIN_PASSWORD))["access_token"])
    await add(gateway, admin, "ngoc")
    for _ in range(2):
        await gateway.post("/api/v1/auth/login", json={"username": "ngoc", "password": "forgotten-it"})
    short = await gateway.post("/api/v1/admin/staff/ngoc/password", headers=admin, json={"new_password": "short"})
    assert short.status == 422
    resp = await gateway.post(
        "/api/v1/admin/staff/ngoc/password", headers=admin, json={"new_password": "a-fresh-password-1"}
    )
    assert resp.status == 200 and (await resp.json())["locked"] is False
    await login(gateway, "ngoc", "a-fresh-password-1")
    old = await gateway.post("/api/v1/auth/login", json={"username": "ngoc", "password": "ngoc-password-long"})
    assert old.status == 401


async def test_a_disabled_account_is_enabled_again(gateway, admin):
    await add(gateway, admin, "phuc")
    assert (await gateway.delete("/api/v1/admin/staff/phuc", headers=admin)).status == 200
    resp = await gateway.post("/api/v1/admin/staff/phuc/enable", headers=admin)
    assert resp.status == 200 and (await resp.json())["disabled"] is False
    await login(gateway, "phuc", "phuc-password-long")


async def test_managers_cannot_administer_staff(gateway, admin):
    await add(gateway, admin, "vy")
    manager = bearer((await login(gateway, "vy", "vy-password-long"))["access_token"])
    for method, path, body in (
        ("PATCH", "/api/v1/admin/staff/vy", {"role": "admin"}),
        ("POST", "/api/v1/admin/staff/admin/password", {"new_password": "taken-over-now"}),
        ("POST", "/api/v1/admin/staff/vy/enable", None),
    ):
        resp = await gateway.request(method, path, headers=manager, json=body)
        assert resp.status == 403, path
