"""Staff logins outlive one 15-minute token through refreshes: each refresh rotates the
token, and no refresh takes a login past its absolute lifetime."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.integration.gateway.conftest import ADMIN_PASSWORD, login
from tests.support import eventually

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def refresh(client, token: str):
    return await client.post("/api/v1/auth/refresh", headers=bearer(token))


async def test_a_refresh_gives_a_new_token_and_the_old_one_cannot_be_refreshed_again(make_gateway):
    gateway = await make_gateway(gateway_refresh_grace_seconds=0)
    first = await login(gateway, "admin", ADMIN_PASSWORD)
    resp = await refresh(gateway, first["access_token"])
    assert resp.status == 200, await resp.text()
    second = await resp.json()
    assert second["access_token"] != first["access_token"]
    assert second["user"] == {"username": "admin", "role": "admin", "organization_id": None}
    assert 0 < second["expires_in"] <= 900 and resp.headers["Cache-Control"] == "no-store"
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(second["access_token"]))).status == 200
    # Rotated: without a grace period the old token ends at once, and it is never refreshed twice.
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(first["access_token"]))).status == 401
    assert (await refresh(gateway, first["access_token"])).status == 401


async def test_requests_already_sent_with_the_old_token_finish_during_the_grace(make_gateway):
    gateway = await make_gateway(gateway_refresh_grace_seconds=30)
    first = await login(gateway, "admin", ADMIN_PASSWORD)
    assert (await refresh(gateway, first["access_token"])).status == 200
    assert (await gateway.get("/api/v1/auth/me", headers=bearer(first["access_token"]))).status == 200
    again = await gateway.post(
        "/api/v1/auth/refresh", headers={**bearer(first["access_token"]), "Accept-Language": "en"}
    )
    assert again.status == 401 and "already refreshed" in (await again.json())["detail"]


async def test_no_refresh_takes_a_login_past_its_absolute_lifetime(make_gateway):
    gateway = await make_gateway(gateway_session_max_seconds=120, gateway_refresh_grace_seconds=0)
    first = await login(gateway, "admin", ADMIN_PASSWORD)
    assert first["expires_in"] <= 120  # the token itself never outlives the login
    limit = datetime.fromisoformat(first["expires_at"])
    token = first["access_token"]
    for _ in range(3):
        out = await (await refresh(gateway, token)).json()
        assert datetime.fromisoformat(out["expires_at"]) <= limit
        token = out["access_token"]


async def test_a_login_at_the_end_of_its_life_is_not_refreshed(make_gateway):
    gateway = await make_gateway(gateway_session_max_seconds=2, gateway_refresh_grace_seconds=0)
    token = (await login(gateway, "admin", ADMIN_PASSWORD))["access_token"]

    async def refused():
        return (await refresh(gateway, token)).status == 401

    assert await eventually(refused, timeout=10, interval=0.2, what="refresh refused at the end of the login's life")


async def test_a_refresh_carries_the_accounts_current_role_and_stops_when_it_is_disabled(gateway, admin):
    await gateway.post(
        "/api/v1/admin/staff", headers=admin, json={"username": "thu", "password": "thu-password-long", "role": "admin"}
    )
    token = (await login(gateway, "thu", "thu-password-long"))["access_token"]
    assert (await gateway.delete("/api/v1/admin/staff/thu", headers=admin)).status == 200
    assert (await refresh(gateway, token)).status == 401


async def test_partner_keys_and_anonymous_callers_cannot_refresh(gateway, admin):
    assert (await gateway.post("/api/v1/auth/refresh")).status == 401
    key = (
        await (
            await gateway.post(
                "/api/v1/admin/api-keys", headers=admin, json={"name": "portal", "scopes": ["members:read"]}
            )
        ).json()
    )["key"]
    resp = await gateway.post("/api/v1/auth/refresh", headers=bearer(key))
    assert resp.status == 403
