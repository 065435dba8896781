"""Issue 16's "done means", as a partner lives it, through the gateway: a partner key
registers a webhook, registers a guest for a seminar, receives the signed
`registration.confirmed` within a second, verifies it with the README's own example
code (Python, and the openssl one-liner), and sees a retry and a redelivery in the log.

Real pieces: the gateway, the events service and the webhooks service in process, the
broker, the embedded store, and the partner's endpoint as a local HTTP server."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from services.events.app import create_app as events_app
from services.events.endpoints import api as events_api
from services.gateway.app import create_app as gateway_app
from services.webhooks.app import create_app as webhooks_app
from services.webhooks.endpoints import api as webhooks_api
from shared.contracts import new_event
from tests.fakes.partner_events import ENGINEERS, organizations
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[3] / "README.md"
ADMIN_PASSWORD = "flow-admin-password"


def readme_block(marker: str) -> str:
    """The fenced code block right after `<!-- marker -->` in the README."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\s*```\w*\n(.*?)```", text, re.S)
    assert found, f"README has no block marked {marker}"
    return found.group(1)


@pytest.fixture
async def platform(aiohttp_server, aiohttp_client, hook_settings):
    publisher = make_bus(hook_settings, "membership-stand-in")
    await publisher.start()
    events = await aiohttp_server(events_app(hook_settings))
    hooks = await aiohttp_server(webhooks_app(hook_settings))
    s = hook_settings.model_copy(
        update={
            "lienhiep_bootstrap_admin_password": ADMIN_PASSWORD,
            "gateway_argon2_time_cost": 1,
            "gateway_argon2_memory_kib": 8192,
            "events_url": str(events.make_url("")).rstrip("/"),
            "webhooks_url": str(hooks.make_url("")).rstrip("/"),
        }
    )
    gateway = await aiohttp_client(gateway_app(s, {"events": events_api, "webhooks": webhooks_api}))
    for org in organizations():  # the tree, as membership announces it
        await publisher.publish(new_event(org, producer="membership"))
    yield gateway, hooks
    await publisher.close()


async def call(gateway: Any, method: str, path: str, headers: dict[str, str], status: int, **kw: Any) -> Any:
    resp = await gateway.request(method, "/api/v1" + path, headers=headers, **kw)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_a_partner_hears_its_registration_confirmed_within_a_second_and_verifies_it(platform, receiver, tmp_path):
    gateway, _ = platform
    login = await call(gateway, "POST", "/auth/login", {}, 200, json={"username": "admin", "password": ADMIN_PASSWORD})
    staff = {"Authorization": f"Bearer {login['access_token']}"}
    created = await call(
        gateway,
        "POST",
        "/admin/api-keys",
        staff,
        201,
        json={
            "name": "Cổng Hội Kỹ sư",
            "scopes": ["registrations:write", "webhooks:manage"],
            "organization_id": ENGINEERS,
        },
    )
    partner = {"X-API-Key": created["key"]}

    # The partner registers its endpoint; the secret is shown this once.
    endpoint = await call(
        gateway,
        "POST",
        "/webhooks/endpoints",
        partner,
        201,
        json={
            "url": receiver.url + "/lienhiep",
            "event_types": ["registration.confirmed"],
            "contact_email": "ops@kysu.example.vn",
        },
    )
    assert endpoint["secret"].startswith("whsec_") and endpoint["awaiting_key"] is False

    # Staff open a seminar of the engineers' association (once events knows the association).
    start = "2027-03-15T01:30:00Z"
    seminar = {
        "kind": "seminar",
        "title": {"vi": "Hội thảo Chuyển đổi số", "en": "Digital transformation"},
        "organizer": ENGINEERS,
        "venue": "Hội trường Liên hiệp, 12 Lê Lợi",
        "capacity": 10,
        "sessions": [{"starts_at": start, "ends_at": "2027-03-15T04:30:00Z"}],
    }

    async def opened() -> Any:
        resp = await gateway.post("/api/v1/events", json=seminar, headers=staff)
        return await resp.json() if resp.status == 201 else None

    event = await eventually(opened, what="the events service knows the association")
    await call(gateway, "POST", f"/events/{event['id']}/publish", staff, 200)

    # The partner registers a guest: the webhook arrives within a second.
    guest = {"guest": {"full_name": "Phạm Thị Lan", "email": "lan@example.vn"}}
    started = time.monotonic()
    registration = await call(gateway, "POST", f"/events/{event['id']}/registrations", partner, 201, json=guest)
    [got] = await receiver.wait_for("/lienhiep", 1, timeout=1.0)
    assert got.at - started < 1.0, got.at - started

    # Verified with the README's own code: Python…
    namespace: dict[str, Any] = {}
    exec(readme_block("webhook-verify-python"), namespace)
    verify = namespace["verify_webhook"]
    assert verify(endpoint["secret"], got.headers, got.body)
    assert not verify(endpoint["secret"], got.headers, got.body.replace(b"Lan", b"Lam"))
    assert not verify("whsec_" + "A" * 44, got.headers, got.body)
    # …and the openssl one-liner.
    (tmp_path / "body.json").write_bytes(got.body)
    shell = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        readme_block("webhook-verify-shell"),
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "WEBHOOK_ID": got.headers["webhook-id"],
            "WEBHOOK_TIMESTAMP": got.headers["webhook-timestamp"],
            "WEBHOOK_SECRET": endpoint["secret"],
        },
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(shell.communicate(), 10)
    assert shell.returncode == 0
    assert "v1," + out.decode().strip() in got.headers["webhook-signature"].split()

    payload = json.loads(got.body)
    assert payload["type"] == "registration.confirmed"
    data = payload["data"]
    assert data["event"]["event_id"] == event["id"] and data["event"]["organizer_id"] == ENGINEERS
    assert data["registration"]["registration_id"] == registration["id"]
    assert data["registration"]["registered_by_you"] is True  # so this key sees the person and the ticket
    assert data["registration"]["person"]["email"] == "lan@example.vn"
    assert data["registration"]["ticket_code"] == registration["ticket_code"]

    # The partner's endpoint fails once: the retry and a redelivery by hand show in the log.
    receiver.answers.append((500, "maintenance", {}))
    second = {"guest": {"full_name": "Võ Văn Tú", "email": "tu@example.vn"}}
    await call(gateway, "POST", f"/events/{event['id']}/registrations", partner, 201, json=second)
    await receiver.wait_for("/lienhiep", 3)
    log_path = f"/webhooks/endpoints/{endpoint['id']}/deliveries"

    async def retried() -> Any:
        items = (await call(gateway, "GET", log_path, partner, 200))["items"]
        return items if len(items) == 2 and items[0]["state"] == "delivered" else None

    newest, first = await eventually(retried, what="the retried delivery logged")
    assert [(t["trigger"], t["status_code"]) for t in newest["log"]] == [("retry", 200), ("event", 500)]
    assert first["attempts"] == 1 and first["state"] == "delivered"

    await call(gateway, "POST", f"{log_path}/{first['id']}/redeliver", partner, 202)
    again = await receiver.wait_for("/lienhiep", 4)
    assert again[-1].msg_id == got.msg_id and again[-1].body == got.body

    async def redelivered() -> Any:
        items = (await call(gateway, "GET", log_path, partner, 200))["items"]
        return items[1] if items[1]["attempts"] == 2 and items[1]["state"] == "delivered" else None

    assert (await eventually(redelivered, what="the redelivery logged"))["log"][0]["trigger"] == "redelivery"

    # The office revokes the key: the gateway says so on the bus, and its endpoint is disabled.
    assert (await gateway.delete(f"/api/v1/admin/api-keys/{created['id']}", headers=staff)).status in (200, 204)
    staff_view = f"/webhooks/endpoints/{endpoint['id']}"

    async def disabled() -> Any:
        shown = await call(gateway, "GET", staff_view, staff, 200)
        return shown if shown["state"] == "disabled" else None

    assert (await eventually(disabled, what="the revoked key's endpoint disabled"))["disabled_reason"] == "key_revoked"
