"""Members' choices and the rules: preferences, one-click unsubscribe, quiet hours
and the daily cap on announcement SMS."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from services.notifications.app import DISPATCHER
from services.notifications.dispatcher import Dispatcher
from services.notifications.email import SmtpSender
from services.notifications.sms import HttpJsonProvider
from services.notifications.store import DeliveryStore, SuppressionStore
from shared.clock import epoch
from tests.fakes.notification_events import event_of, member
from tests.support import eventually

pytestmark = pytest.mark.integration


async def put_prefs(notify, member_id, body):
    return await notify.client.put(f"/notifications/preferences/{member_id}", json=body, headers=notify.staff)


async def test_service_messages_can_move_channel_but_not_be_turned_off(notify):
    m = member()
    refused = await put_prefs(notify, m["member_id"], {"service": {"email": False, "sms": False}})
    assert refused.status == 422
    assert (await refused.json())["errors"][0]["field"] == "service"
    moved = await put_prefs(notify, m["member_id"], {"service": {"email": False}})
    assert moved.status == 200
    assert (await moved.json())["service"] == {"email": False, "sms": True}
    event = event_of("member.approved", m=m)  # a welcome is email-only in the routing table
    await notify.publisher.publish(event)
    items = {d["channel"]: d for d in await notify.settled(event.id, 2)}
    assert items["email"]["status"] == "skipped" and items["email"]["reason"] == "opted-out"
    assert items["sms"]["status"] == "sent"
    assert notify.sms.to(m["phone"])[0]["text"].startswith("Lien hiep cac Hoi Khoa hoc va Ky thuat tinh chao mung")
    assert notify.smtp.recorder.to(m["email"]) == []
    unknown = await put_prefs(notify, m["member_id"], {"service": {"fax": True}})
    assert unknown.status == 422


async def test_one_click_unsubscribe_from_the_announcement_header(notify):
    m = member()
    await notify.publisher.publish(event_of("member.approved", m=m))
    await eventually(lambda: notify.db.contacts.find_one({"_id": m["member_id"]}), what="contact projected")
    first = await start_campaign(notify, "email")
    await eventually(lambda: _async(notify.smtp.recorder.to(m["email"])[1:]), what="announcement email")
    mail = next(x for x in notify.smtp.recorder.to(m["email"]) if x["List-Unsubscribe"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = urlsplit(mail["List-Unsubscribe"].strip("<>"))
    assert url.path == "/api/v1/notifications/unsubscribe"
    assert url.query.split("=", 1)[1] in mail.get_body(("plain",)).get_content()
    # A person clicking the link in the text gets a page asking to confirm; the click changes nothing.
    page = await notify.client.get(f"/notifications/unsubscribe?{url.query}", headers=notify.anonymous)
    assert page.status == 200 and page.content_type == "text/html"
    assert 'method="post"' in await page.text() and "Ngừng nhận thông báo" in await page.text()
    assert (await notify.get(f"/notifications/preferences/{m['member_id']}"))["announcement"]["email"] is True
    # What a mail program does (RFC 8058): POST, no login, a form body.
    resp = await notify.client.post(
        f"/notifications/unsubscribe?{url.query}",
        data="List-Unsubscribe=One-Click",
        headers={**notify.anonymous, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 200, await resp.text()
    prefs = await notify.get(f"/notifications/preferences/{m['member_id']}")
    assert prefs["announcement"] == {"email": False, "sms": True} and prefs["service"]["email"] is True
    second = await start_campaign(notify, "email")
    skipped = await eventually(lambda: _campaign_items(notify, second, "skipped"), what="skipped")
    assert skipped[0]["reason"] == "opted-out"
    assert len([x for x in notify.smtp.recorder.to(m["email"]) if x["List-Unsubscribe"]]) == 1
    bad = await notify.client.post("/notifications/unsubscribe?token=abcdefghijk.xyz", headers=notify.anonymous)
    assert bad.status == 400
    bad_page = await notify.client.get("/notifications/unsubscribe?token=abcdefghijk.xyz", headers=notify.anonymous)
    assert bad_page.status == 400 and "Liên kết không hợp lệ" in await bad_page.text()
    assert first != second


async def test_announcement_sms_wait_for_seven_oclock_and_stop_at_three_a_day(notify, sms):
    """The dispatcher on the real store and provider, with its clock set."""
    s = notify.settings.model_copy(update={"sms_quiet_start_hour": 22, "sms_quiet_end_hour": 7})
    deliveries = DeliveryStore(notify.db)
    clock = {"now": datetime(2026, 11, 27, 16, 0, tzinfo=UTC)}  # 23:00 in Hà Nội
    provider = HttpJsonProvider(sms.url, sms.token, "LIENHIEP")
    dispatcher = Dispatcher(
        s, deliveries, SuppressionStore(notify.db), SmtpSender(s), provider, clock=lambda: clock["now"]
    )
    await notify.client.app[DISPATCHER].stop()  # only our dispatcher, with its clock, runs in this test
    phone = "+84987000111"
    await deliveries.plan(
        [
            {
                "_id": f"c:{i}:sms",
                "channel": "sms",
                "category": "announcement",
                "notification": "announcement",
                "to": phone,
                "content": {"text": f"[QC] tin {i}"},
                "source_event_id": "c",
                "source_event_type": "campaign",
            }
            for i in range(4)
        ]
    )
    await dispatcher.run_once()
    held = await deliveries.deliveries.find({"source_event_id": "c"}).to_list()
    assert {(d["status"], d["held"]) for d in held} == {("queued", "quiet-hours")}
    assert {d["due"] for d in held} == {epoch(datetime(2026, 11, 28, 0, 0, tzinfo=UTC))}  # 07:00 local
    assert {d["attempts"] for d in held} == {0} and sms.received == []
    clock["now"] = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # 10:00: the window is open
    await deliveries.deliveries.update_many({"source_event_id": "c"}, {"$set": {"due": epoch()}})
    await dispatcher.run_once()
    after = {d["_id"]: d for d in await deliveries.deliveries.find({"source_event_id": "c"}).to_list()}
    assert sorted(d["status"] for d in after.values()) == ["queued", "sent", "sent", "sent"]
    waiting = next(d for d in after.values() if d["status"] == "queued")
    assert waiting["held"] == "daily-limit" and waiting["due"] > epoch() + 86000
    assert len(sms.to(phone)) == 3
    await provider.close()


async def start_campaign(notify, *channels, segment=None):
    body = {
        "name": "Hội thi Sáng tạo",
        "segment": segment or {"kind": "consented"},
        "channels": list(channels),
        "subject": "Hội thi Sáng tạo kỹ thuật lần thứ X",
        "body": "Hội thi bắt đầu nhận hồ sơ.",
        "sms_text": "Hội thi Sáng tạo kỹ thuật lần thứ X bắt đầu nhận hồ sơ.",
    }
    resp = await notify.client.post("/notifications/campaigns", json=body, headers=notify.staff)
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def _campaign_items(notify, campaign_id, status):
    return await notify.deliveries(campaign_id=campaign_id, status=status)


async def _async(value):
    return value


async def test_a_malformed_unsubscribe_token_is_a_clear_refusal_not_a_crash(notify):
    """Issue 10.7: `?token=abcdefghij.é` answered 500 (a non-ASCII mac broke the comparison)."""
    for token in ("abcdefghij.é", "é" * 12, "abcdefghij.%00"):
        page = await notify.client.get("/notifications/unsubscribe", params={"token": token}, headers=notify.anonymous)
        assert page.status == 400, token
        click = await notify.client.post(
            "/notifications/unsubscribe", params={"token": token}, headers=notify.anonymous
        )
        assert click.status == 400 and (await click.json())["type"].endswith("invalid-token"), token
