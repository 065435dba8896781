"""Issue 11.4: an events process killed (kill -9) in the middle of a registration rush
leaves seats taken by batches it never wrote (or intents it had not forgotten yet).
Another replica gives them back seconds after their lease lapses — not minutes — and
the counters and the waiting list are exact again: confirmed, waiting and free seats
match the registrations stored. (The kill lands wherever it lands; the batch that took
seats and never wrote is reproduced exactly in tests/integration/events/test_replicas.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from deploy.local.embedded_store import free_port
from services.events.app import DEPS, create_app
from services.events.seating import LEASE_SECONDS
from shared.identity import HEADER, Identity, sign
from shared.mongo import connect
from tests.support import eventually

pytestmark = pytest.mark.e2e  # one events replica runs as a real process (and is killed)
ROOT = Path(__file__).resolve().parents[2]


def _process(settings, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "MONGO_URL": settings.mongo_url,
        "AMQP_URL": settings.amqp_url,
        "MONGO_DB_PREFIX": settings.mongo_db_prefix,
        "BUS_EXCHANGE": settings.bus_exchange,
        "BUS_QUEUE_PREFIX": settings.bus_queue_prefix,
        "BUS_QUEUE_TYPE": settings.bus_queue_type,
        "EVENTS_PORT": str(port),
        "INTERNAL_IDENTITY_SECRET": settings.internal_identity_secret,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "services.events"], env=env, cwd=ROOT)


async def _ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:

        async def up() -> bool:
            try:
                async with session.get(f"{url}/readyz") as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        await eventually(up, timeout=60, what="events process ready")


async def _unwritten(db, event_id: str) -> bool:
    doc = await db["events"].find_one({"_id": event_id}, {"pending": 1})
    for intent in ((doc or {}).get("pending") or {}).values():
        ids = intent.get("ids") or []
        if await db["registrations"].count_documents({"_id": {"$in": ids}}) < len(ids):
            return True
    return False


async def _state(db, event_id: str) -> tuple[int, int]:
    """(seats and places counted on the event, registrations stored)."""
    doc = await db["events"].find_one({"_id": event_id})
    stored = await db["registrations"].count_documents({"event_id": event_id})
    return doc["confirmed"] + doc["waiting"], stored


async def test_seats_of_a_killed_process_come_back_within_seconds_and_counters_are_exact(settings, aiohttp_client):
    settings = settings.model_copy(update={"events_scheduler_poll_seconds": 1.0})
    client = connect(settings.mongo_url)
    db = client[settings.database("events")]
    await db["organizations"].insert_one({"_id": "org-lhh", "code": "LHH", "code_key": "lhh", "name": "LHH"})
    survivor = await aiohttp_client(create_app(settings))
    port = free_port()
    doomed = _process(settings, port)
    admin = {HEADER: sign(Identity(sub="staff:lan", roles=("admin",)), settings.internal_identity_secret)}
    partner = {HEADER: sign(Identity(sub="key:p", scopes=("registrations:write",)), settings.internal_identity_secret)}
    try:
        url = f"http://127.0.0.1:{port}"
        await _ready(url)
        start = datetime.now(UTC) + timedelta(days=3)
        body = {
            "kind": "seminar",
            "title": {"vi": "Hội thảo"},
            "organizer": "LHH",
            "venue": "V",
            "capacity": 60,
            "sessions": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}],
        }
        event = await (await survivor.post("/events", json=body, headers=admin)).json()
        assert (await survivor.post(f"/events/{event['id']}/publish", headers=admin)).status == 200

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:

            async def attempt(i: int) -> None:
                guest = {"guest": {"full_name": f"Khách {i}", "email": f"k{i}@example.vn"}}
                try:
                    async with http.post(f"{url}/events/{event['id']}/registrations", json=guest, headers=partner):
                        pass
                except (aiohttp.ClientError, TimeoutError):
                    pass  # the process died under it

            rush = [asyncio.create_task(attempt(i)) for i in range(400)]
            # Freeze it the moment a batch has taken seats but not written them all, then kill it.
            await eventually(lambda: _unwritten(db, event["id"]), timeout=30, interval=0.002, what="a batch in hand")
            doomed.send_signal(signal.SIGSTOP)
            at_kill = await _state(db, event["id"])
            doomed.kill()
            killed_at = time.monotonic()
            await asyncio.gather(*rush)
        # Often the process dies with seats taken for registrations it never wrote (counted >
        # stored); when the kill lands between batches, its last intents are still to forget.
        print("at the kill: (seats and places counted, registrations stored) =", at_kill)

        deps = survivor.server.app[DEPS]

        async def exact() -> dict | None:
            doc = await db["events"].find_one({"_id": event["id"]})
            confirmed = await db["registrations"].count_documents({"event_id": event["id"], "status": "confirmed"})
            waiting = await db["registrations"].count_documents({"event_id": event["id"], "status": "waitlisted"})
            counters = (doc["confirmed"], doc["waiting"], doc["seats_free"])
            written = (confirmed, waiting, 60 - confirmed)
            return doc if counters == written and not doc.get("pending") else None

        doc = await eventually(exact, timeout=LEASE_SECONDS + 20, what="counters exact again")
        healed = time.monotonic() - killed_at
        assert healed < LEASE_SECONDS + 15, f"healed after {healed:.1f} s"
        assert doc["confirmed"] + doc["seats_free"] == 60
        # The waiting list's places are exact: positions 1..n, as a newcomer now sees.
        late = await survivor.post(
            f"/events/{event['id']}/registrations",
            json={"guest": {"full_name": "Muộn", "email": "muon@example.vn"}},
            headers=partner,
        )
        answer = await late.json()
        if answer["status"] == "waitlisted":
            assert answer["position"] == doc["waiting"] + 1
        assert await deps.ledger.counters(event["id"])
    finally:
        if doomed.poll() is None:
            doomed.kill()
        doomed.wait(timeout=30)
        await client.drop_database(settings.database("events"))
        await client.close()
