"""The whole platform as real processes: staff log in, create a partner key; the
partner creates a member through the gateway; the member gets a Vietnamese welcome
email over SMTP."""

from __future__ import annotations

import aiohttp
import pytest

from deploy.local.embedded_store import free_port
from deploy.local.services import READY_TIMEOUT, ServiceProcesses
from tests.smtp_server import SmtpServer
from tests.support import eventually
from tests.support.platform import platform_env

# Six Python services start slowly on a loaded 2-core machine: the wait names the slow one
# (deploy/local/services.py READY_TIMEOUT), and the test's own limit covers that wait.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(READY_TIMEOUT + 120)]
ADMIN_PASSWORD = "e2e-bootstrap-admin-password"


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def platform(mongo_url, amqp_url, smtp, tmp_path_factory):
    env = platform_env(
        "e2e",
        mongo_url,
        amqp_url,
        smtp.port,
        BUS_RETRY_DELAYS="0.2,0.5",
        GATEWAY_METRICS_PORT=str(free_port()),
        LIENHIEP_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        LOG_LEVEL="INFO",
    )
    processes = ServiceProcesses(env=env, log_folder=tmp_path_factory.mktemp("logs"))
    processes.start()
    try:
        processes.wait_ready(report=print)
        yield processes
    finally:
        processes.stop()


async def test_a_member_created_with_a_partner_key_is_welcomed_by_email(platform, smtp):
    gateway = platform.url("gateway")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gateway}/api/v1/members", json={"full_name": "Không Ai"}) as resp:
            assert resp.status == 401  # nobody gets in without credentials
        async with http.post(
            f"{gateway}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ) as resp:
            assert resp.status == 200, await resp.text()
            staff = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
        async with http.post(
            f"{gateway}/api/v1/admin/api-keys",
            headers=staff,
            json={"name": "Cổng thông tin tỉnh", "scopes": ["members:read", "members:write"]},
        ) as resp:
            assert resp.status == 201, await resp.text()
            partner = {"X-API-Key": (await resp.json())["key"]}

        async with http.post(
            f"{gateway}/api/v1/members",
            headers={**partner, "X-Request-ID": "e2e-req-1"},
            json={
                "full_name": "Đỗ Quang Huy",
                "email": "huy.do@example.vn",
                "phone": "0903 123 456",
            },
        ) as resp:
            assert resp.status == 201, await resp.text()
            assert resp.headers["X-Request-ID"] == "e2e-req-1"
            assert int(resp.headers["RateLimit-Remaining"]) >= 0
            member = await resp.json()

        mails = await eventually(
            lambda: _async(smtp.recorder.to("huy.do@example.vn")), timeout=30, what="welcome email"
        )
        assert str(mails[0]["Subject"]).startswith("Chào mừng Đỗ Quang Huy")

        async with http.get(f"{gateway}/api/v1/notifications/deliveries", headers=partner) as resp:
            assert resp.status == 403  # the delivery log is for administrators

        async def sent():
            async with http.get(
                f"{gateway}/api/v1/notifications/deliveries", headers=staff, params={"member_id": member["id"]}
            ) as resp:
                items = (await resp.json())["items"]
                return [d for d in items if d["status"] == "sent"]

        deliveries = await eventually(sent, timeout=10, what="delivery recorded")
        assert deliveries[0]["template"] == "welcome"

        async with http.post(f"{gateway}/api/v1/auth/logout", headers=staff) as resp:
            assert resp.status == 204
        async with http.get(f"{gateway}/api/v1/admin/api-keys", headers=staff) as resp:
            assert resp.status == 401


async def test_metrics_are_served_by_every_service(platform):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{platform.url('gateway')}/metrics") as resp:
            assert resp.status == 401  # the gateway's public port wants credentials; scrapers use its internal port
        internal = {"gateway": f"http://127.0.0.1:{platform.env['GATEWAY_METRICS_PORT']}"}
        for service in ("gateway", "membership", "events", "notifications"):
            async with http.get(f"{internal.get(service, platform.url(service))}/metrics") as resp:
                assert resp.status == 200, service
                text = await resp.text()
                assert "lienhiep_http_requests_total" in text, service
                if service == "notifications":  # it consumed member.approved for the welcome email
                    assert 'outcome="handled"' in text


async def test_services_cannot_be_called_around_the_gateway(platform):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{platform.url('membership')}/members", json={"full_name": "X"}) as resp:
            assert resp.status == 401
            assert resp.headers["Content-Type"].startswith("application/problem+json")


async def test_a_down_service_answers_503_not_a_hang(platform):
    platform.stop("events")
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{platform.url('gateway')}/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        ) as resp:
            staff = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
        async with http.get(
            f"{platform.url('gateway')}/api/v1/events", headers=staff, timeout=aiohttp.ClientTimeout(total=10)
        ) as resp:
            assert resp.status == 503
            body = await resp.json(content_type=None)
            assert body["type"].endswith("/upstream-unavailable")
        async with http.get(f"{platform.url('gateway')}/readyz") as resp:
            assert resp.status == 503


async def test_logs_carry_ids_and_no_personal_data(platform):
    logs = "".join(p.read_text(encoding="utf-8") for p in platform.log_folder.glob("*.log"))
    assert "e2e-req-1" in logs  # the request id travelled into every service's lines
    for secret in ("huy.do@example.vn", "0903 123 456", "+84903123456", "Bearer ", ADMIN_PASSWORD, "lh_", "lhs."):
        assert secret not in logs


async def _async(value):
    return value
