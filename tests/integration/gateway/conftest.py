"""A gateway in process in front of the real membership service (an HTTP server on
a free port), with the real store and broker. Events and notifications point at a
closed port: the gateway must answer 503 for them, quickly."""

from __future__ import annotations

import pytest

from deploy.local.embedded_store import free_port
from services.gateway.app import create_app as gateway_app
from services.membership.app import create_app as membership_app
from shared.settings import Settings

ADMIN_PASSWORD = "bootstrap-admin-password"


@pytest.fixture
def gw_settings(settings: Settings) -> Settings:
    closed = f"http://127.0.0.1:{free_port()}"
    return settings.model_copy(
        update={
            "lienhiep_bootstrap_admin_password": ADMIN_PASSWORD,
            "gateway_argon2_time_cost": 1,
            "gateway_argon2_memory_kib": 8192,  # still argon2id, lighter for tests
            "events_url": closed,
            "notifications_url": closed,
            "gateway_cors_origins": "https://portal.example.vn",
            "gateway_upstream_timeout_seconds": 3.0,
            "gateway_breaker_failures": 3,
            "gateway_breaker_reset_seconds": 30.0,
        }
    )


@pytest.fixture
async def membership(aiohttp_server, gw_settings):
    return await aiohttp_server(membership_app(gw_settings))


@pytest.fixture
def make_gateway(aiohttp_client, gw_settings, membership):
    async def make(services=None, **changes):
        s = gw_settings.model_copy(update={"membership_url": str(membership.make_url("")).rstrip("/"), **changes})
        return await aiohttp_client(gateway_app(s, services))

    return make


@pytest.fixture
async def gateway(make_gateway):
    return await make_gateway()


async def login(client, username: str, password: str) -> dict:
    resp = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.fixture
async def admin(gateway) -> dict[str, str]:
    token = (await login(gateway, "admin", ADMIN_PASSWORD))["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def new_key(client, admin_headers, scopes, organization_id=None) -> dict:
    resp = await client.post(
        "/api/v1/admin/api-keys",
        headers=admin_headers,
        json={
            "name": "Cổng thông tin đô thị thông minh",
            "scopes": scopes,
            **({"organization_id": organization_id} if organization_id else {}),
        },
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()
