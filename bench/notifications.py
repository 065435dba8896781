"""Notifications benchmark: a 10,000-recipient announcement, by email and by SMS.

    .venv/bin/python bench/notifications.py                 # 10,000 recipients
    .venv/bin/python bench/notifications.py --recipients 2000

The pipeline is the service's own: a campaign planned page by page from the
contact projection (rendered per person, one delivery per person under its
deterministic key), claimed in batches by the dispatcher and sent, every outcome
settled in the store. Email goes to a local aiosmtpd server, SMS to a local HTTP
sink, each in its own process, which count what they receive, so duplicates and
losses are counted by the receiver, not by us. Beside each figure, the raw rate of
the same client to the same sink in the same run: aiosmtplib over the same number
of reused connections with pre-built messages, and aiohttp POSTs with the same
concurrency, with no store at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from measuring import CommandTally

from deploy.local.embedded_store import EmbeddedStore, free_port, port_open
from services.notifications import campaign_store as campaigns_mod
from services.notifications import store as store_mod
from services.notifications import templates as templates_mod
from services.notifications.campaign_runner import CampaignRunner
from services.notifications.campaign_store import CampaignStore
from services.notifications.dispatcher import Dispatcher
from services.notifications.email import SmtpSender
from services.notifications.planner import Planner
from services.notifications.projections import ContactStore, DirectoryStore
from services.notifications.rendering import Renderer
from services.notifications.sms import HttpJsonProvider
from shared.logging import configure_logging
from shared.mongo import connect, ensure_indexes
from shared.settings import Settings

SMTP_SINK = textwrap.dedent("""
    import collections, json, signal, sys, time
    from aiosmtpd.controller import Controller
    counts = collections.Counter()
    class Sink:
        async def handle_DATA(self, server, session, envelope):
            for rcpt in envelope.rcpt_tos:
                counts[rcpt] += 1
            return "250 OK"
    c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
    c.start()
    def dump(*_):
        c.stop()
        json.dump(counts, open(sys.argv[2], "w"))
        sys.exit(0)
    signal.signal(signal.SIGTERM, dump)
    while True:
        time.sleep(1)
""")

SMS_SINK = textwrap.dedent("""
    import collections, sys
    from aiohttp import web
    counts = collections.Counter()
    async def send(request):
        body = await request.json()
        counts[body["request_id"]] += 1
        return web.json_response({"id": body["request_id"]})
    async def stats(request):
        return web.json_response(counts)
    async def reset(request):
        counts.clear()
        return web.json_response({})
    app = web.Application()
    app.router.add_post("/send", send)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
""")


def start(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args])


async def wait_port(port: int) -> None:
    for _ in range(200):
        if port_open("127.0.0.1", port):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def raw_smtp(settings: Settings, n: int) -> float:
    sender = SmtpSender(settings)
    renderer = Renderer()
    rendered = renderer.email("announcement", "vi", {**_context(), "full_name": "Hội viên", "unsubscribe_url": "x"})
    messages = [
        (
            sender.build(to=f"raw{i}@example.vn", to_name="Hội viên", rendered=rendered, delivery_key=f"raw{i}"),
            f"raw{i}@example.vn",
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(sender.send(m, to) for m, to in messages))
    elapsed = time.perf_counter() - started
    await sender.close()
    return n / elapsed


async def raw_http(url: str, n: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:

        async def one(i: int) -> None:
            async with gate:
                async with http.post(
                    url, json={"to": "+84900000000", "text": "raw", "sender": "X", "request_id": f"raw-{i}"}
                ) as resp:
                    await resp.read()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started)


def _context() -> dict:
    return {
        "federation": "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh",
        "federation_en": "the Union",
        "public_base_url": "http://127.0.0.1",
        "subject": "Hội thi Sáng tạo kỹ thuật lần thứ X",
        "body": "Liên hiệp Hội trân trọng thông báo Hội thi Sáng tạo kỹ thuật lần thứ X bắt đầu nhận hồ sơ.",
        "sms_text": "Hoi thi Sang tao ky thuat lan thu X bat dau nhan ho so.",
    }


async def raw_store(db, n: int) -> tuple[float, float]:
    """The store alone, same run: single-document updates per second, and documents per
    second inserted in bulk. Each delivery costs one bulk insert and two row updates
    (claim, settle), so these bound the pipeline on the embedded store."""
    await db.bench_raw.insert_many([{"_id": i, "status": "queued"} for i in range(n)])
    started = time.perf_counter()
    for i in range(n):
        await db.bench_raw.update_one({"_id": i}, {"$set": {"status": "sent"}})
    updates = n / (time.perf_counter() - started)
    started = time.perf_counter()
    await db.bench_raw.insert_many(
        [{"_id": f"b{i}", "status": "queued", "content": {"text": "x" * 120}} for i in range(n * 4)]
    )
    inserts = n * 4 / (time.perf_counter() - started)
    await db.bench_raw.drop()
    return updates, inserts


async def campaign_run(settings: Settings, url: str, db, channel: str, n: int) -> tuple[float, float, Counter[str]]:
    """Plan and send a campaign to n people on one channel; (seconds planning, seconds to
    the last send, the store commands the service's runner and dispatcher sent). The
    service works through a client of its own, so the benchmark's polling is not counted."""
    tally = CommandTally()  # store commands as pymongo sends them (issue 14: round trips per operation)
    service_client = connect(url, listeners=[tally])
    service_db = service_client[settings.database("notifications")]
    renderer = Renderer()
    deliveries = store_mod.DeliveryStore(service_db)
    planner = Planner(
        settings, ContactStore(service_db), deliveries, templates_mod.TemplateStore(service_db, renderer), renderer
    )
    smtp = SmtpSender(settings)
    sms = HttpJsonProvider(settings.sms_provider_url, "", settings.sms_sender)
    dispatcher = Dispatcher(settings, deliveries, store_mod.SuppressionStore(service_db), smtp, sms)
    campaigns = CampaignStore(service_db)
    runner = CampaignRunner(campaigns, DirectoryStore(service_db), planner, dispatcher.wake, sender=dispatcher)
    watched = CampaignStore(db)
    context = _context()
    doc = await campaigns.create(
        {
            "name": f"bench {channel}",
            "segment": {"kind": "consented"},
            "channels": [channel],
            "language": "vi",
            "subject": context["subject"],
            "body": context["body"],
            "sms_text": context["sms_text"],
        },
        "bench",
    )
    started = time.perf_counter()
    dispatcher.start()
    runner.start()
    planned_at = None
    while True:
        await asyncio.sleep(0.25)
        current = await watched.get(doc["_id"])
        assert current is not None
        if planned_at is None and current["planning_done"] == "yes":
            planned_at = time.perf_counter() - started
        if planned_at is not None:
            left = await db.deliveries.find_one({"campaign_id": doc["_id"], "status": {"$in": ["queued", "sending"]}})
            if left is None:
                break
    elapsed = time.perf_counter() - started
    await runner.stop()
    await dispatcher.stop()
    await smtp.close()
    await sms.close()
    await service_client.close()
    commands = Counter({f"{command} {collection}": n for (_, command, collection), n in tally.counts.items()})
    return planned_at or elapsed, elapsed, commands


async def main(recipients: int) -> None:
    configure_logging("bench", "WARNING")
    folder = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    smtp_port, sms_port = free_port(), free_port()
    counts_file = folder / "smtp-counts.json"
    smtp_sink = start(SMTP_SINK, str(smtp_port), str(counts_file))
    sms_sink = start(SMS_SINK, str(sms_port))
    try:
        with EmbeddedStore(folder / "store") as store:
            await wait_port(smtp_port)
            await wait_port(sms_port)
            sms_url = f"http://127.0.0.1:{sms_port}/send"
            settings = Settings(
                mongo_url=store.url,
                mongo_db_prefix="bench",
                smtp_port=smtp_port,
                sms_provider_url=sms_url,
                sms_rate_per_second=100_000,
                email_rate_per_second=100_000,
                notify_batch=1000,
                smtp_connections=8,
                sms_quiet_start_hour=0,
                sms_quiet_end_hour=0,
                sms_announcements_per_day=1_000_000,
            )
            client = connect(store.url)
            db = client[settings.database("notifications")]
            await ensure_indexes(db, [*store_mod.INDEXES, *templates_mod.INDEXES, *campaigns_mod.INDEXES])
            print(f"seeding {recipients} contacts ...", flush=True)
            await db.contacts.insert_many(
                [
                    {
                        "_id": f"m-{i:06d}",
                        "full_name": f"Hội viên {i}",
                        "email": f"hv{i}@example.vn",
                        "phone": f"+8491{i:07d}",
                        "language": "vi",
                        "consents": {"email": "yes", "sms": "yes"},
                        "organization_ids": ["org"],
                        "status": "active",
                    }
                    for i in range(recipients)
                ]
            )

            store_updates, store_inserts = await raw_store(db, 1000)
            raw_email = await raw_smtp(settings, min(recipients, 3000))
            _, email_s, email_commands = await campaign_run(settings, store.url, db, "email", recipients)
            raw_sms = await raw_http(sms_url, min(recipients, 5000), 64)
            async with aiohttp.ClientSession() as http:
                await http.post(f"http://127.0.0.1:{sms_port}/reset")
            _, sms_s, sms_commands = await campaign_run(settings, store.url, db, "sms", recipients)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{sms_port}/stats") as resp:
                    sms_counts = await resp.json()
            await client.close()
    finally:
        smtp_sink.terminate()
        smtp_sink.wait(timeout=10)
        sms_sink.terminate()
        sms_sink.wait(timeout=10)
    smtp_counts = json.loads(counts_file.read_text())
    campaign_mail = {k: v for k, v in smtp_counts.items() if k.startswith("hv")}
    report = {
        "recipients": recipients,
        "store": {"single_updates_per_second": round(store_updates), "bulk_inserts_per_second": round(store_inserts)},
        "email": {
            "per_second": round(recipients / email_s),
            "raw_smtp_per_second": round(raw_email),
            "share_of_raw": round(recipients / email_s / raw_email, 2),
            "seconds": round(email_s, 1),
            "duplicates": sum(v - 1 for v in campaign_mail.values() if v > 1),
            "losses": recipients - len(campaign_mail),
            "store_commands_per_message": round(sum(email_commands.values()) / recipients, 3),
            "store_commands": dict(email_commands.most_common()),
        },
        "sms": {
            "per_second": round(recipients / sms_s),
            "raw_http_per_second": round(raw_sms),
            "seconds": round(sms_s, 1),
            "duplicates": sum(v - 1 for v in sms_counts.values() if v > 1),
            "losses": recipients - len(sms_counts),
            "store_commands_per_message": round(sum(sms_commands.values()) / recipients, 3),
            "store_commands": dict(sms_commands.most_common()),
        },
        "target_store_commands_per_message": 1.5,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().recipients))
