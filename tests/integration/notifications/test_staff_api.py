"""What staff see and do over the API: the routing table, templates (list, edit with
versions, preview, errors at save time), the delivery log, erasure, parked events."""

from __future__ import annotations

import json
import uuid

import aio_pika
import pytest

from tests.fakes.notification_events import event_of, member, registrant
from tests.support import eventually

pytestmark = pytest.mark.integration
TEMPLATE = "/notifications/templates/registration_confirmed/sms/vi"


async def test_the_routing_table_is_visible(notify):
    routes = (await notify.get("/notifications/routes"))["items"]
    by_type = {(r["event_type"], r["notification"]): r for r in routes}
    assert by_type[("registration.confirmed", "registration_confirmed")]["channels"] == ["email", "sms"]
    assert by_type[("event.reminder_due", "event_reminder")]["channels"] == ["sms", "email"]
    assert by_type[("member.applied", "member_applied")]["category"] == "staff"
    assert {r["event_type"] for r in routes} >= {"membership.expiring", "certificate.issued", "event.cancelled"}


async def test_staff_edit_a_template_and_the_next_message_uses_it(notify):
    listed = (await notify.get("/notifications/templates"))["items"]
    assert {"notification": "welcome", "channel": "email", "language": "en", "version": 0, "edited": False} in listed
    current = await notify.get(TEMPLATE)
    assert current["version"] == 0 and "Mã vé" in current["parts"]["text"]

    async def put(parts, **extra):
        return await notify.client.put(TEMPLATE, json={"parts": parts, **extra}, headers=notify.staff)

    broken = await put({"text": "Vé {{ ticket_code }"})
    assert broken.status == 422
    [error] = (await broken.json())["errors"]
    assert error["field"] == "parts.text" and "syntax" in error["message"] and error["line"] == 1
    unknown = await put({"text": "Vé {{ ticket }}"})
    assert "ticket" in (await unknown.json())["errors"][0]["message"]
    too_long = await put({"text": "{{ event.title }} " * 30})
    body = await too_long.json()
    assert too_long.status == 422 and body["errors"][0]["segments"] > 3
    wrong_part = await put({"text": "x", "subject": "y"})
    assert (await wrong_part.json())["errors"][0]["field"] == "parts.subject"

    saved = await put(
        {"text": "LHH: ve {{ ticket_code }} cho {{ event.title }}, {{ event.when }}."}, expected_version=0
    )
    assert saved.status == 200, await saved.text()
    assert (await saved.json())["version"] == 1
    stale = await put({"text": "x {{ ticket_code }}"}, expected_version=0)
    assert stale.status == 409
    versions = (await notify.get(f"{TEMPLATE}/versions"))["items"]
    assert [v["version"] for v in versions] == [1] and versions[0]["updated_by"] == "staff:lan"

    who = registrant()
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    await eventually(lambda: _async(notify.sms.to(who.phone)), what="sms")
    assert notify.sms.to(who.phone)[0]["text"] == "LHH: ve HT-7K3M9Q cho Hoi thao Chuyen doi so, 08:30 ngay 15/12/2026."
    [sms] = [d for d in await notify.settled(event.id, 2) if d["channel"] == "sms"]
    assert (await notify.get(f"/notifications/deliveries/{sms['key']}"))["content"]["text"].startswith("LHH: ve")


async def test_preview_renders_a_draft_with_sample_data(notify):
    resp = await notify.client.post(
        "/notifications/templates/registration_confirmed/email/en/preview",
        headers=notify.staff,
        json={"sample": {"full_name": "Jane Roe"}},
    )
    assert resp.status == 200
    preview = await resp.json()
    assert preview["subject"].startswith("Registration confirmed") and "Dear Jane Roe" in preview["text"]
    assert "<html" in preview["html"]
    draft = await notify.client.post(
        f"{TEMPLATE}/preview",
        headers=notify.staff,
        json={"parts": {"text": "Đăng ký {{ ticket_code }} – {{ full_name }}"}},
    )
    assert await draft.json() == {"text": "Dang ky HT-7K3M9Q - Nguyen Thi Mai", "segments": 1, "encoding": "gsm7"}
    missing = await notify.client.get("/notifications/templates/nope/sms/vi", headers=notify.staff)
    assert missing.status == 404


async def test_the_delivery_log_answers_by_recipient_event_and_status(notify):
    m = member()
    events = [event_of("member.approved", m=m), event_of("membership.expiring", m=m)]
    for e in events:
        await notify.publisher.publish(e)
    for e in events:
        await notify.settled(e.id, 1)
    mine = await notify.deliveries(recipient_id=m["member_id"])
    assert sorted(d["template"] for d in mine) == ["membership_expiring", "welcome"]
    assert [d["template"] for d in await notify.deliveries(event_id=events[1].id)] == ["membership_expiring"]
    assert all(d["status"] == "sent" for d in await notify.deliveries(status="sent"))
    bad = await notify.client.get("/notifications/deliveries", params={"status": "lost"}, headers=notify.staff)
    assert bad.status == 422 and (await bad.json())["errors"][0]["field"] == "status"
    partner = await notify.client.get("/notifications/deliveries", headers=notify.anonymous)
    assert partner.status == 403


async def test_erasure_removes_contact_data_and_message_bodies(notify):
    m = member()
    who = registrant(member_id=m["member_id"], email=m["email"], phone=m["phone"])
    await notify.publisher.publish(event_of("member.approved", m=m))
    confirmed = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(confirmed)
    await notify.settled(confirmed.id, 2)
    from shared.contracts import MemberErased, new_event

    await notify.publisher.publish(new_event(MemberErased(member_id=m["member_id"]), producer="membership"))

    async def erased():  # to its end: the contact is marked first and emptied last
        contact = await notify.db.contacts.find_one({"_id": m["member_id"]})
        return contact if contact and contact.get("erased") and "erasing_addresses" not in contact else None

    contact = await eventually(erased, what="contact erased")
    assert "email" not in contact and "phone" not in contact and "full_name" not in contact

    async def log_scrubbed():
        docs = await notify.db.deliveries.find({"member_id": m["member_id"]}).to_list()
        return docs and all(not {"to", "to_name", "content", "attachments"} & set(d) for d in docs)

    await eventually(log_scrubbed, what="message bodies and addresses removed from the log")
    [sms] = [d for d in await notify.deliveries(event_id=confirmed.id) if d["channel"] == "sms"]
    assert (await notify.get(f"/notifications/deliveries/{sms['key']}")).get("content") is None
    registration = await notify.db.registrations.find_one({"member_id": m["member_id"]})
    assert "email" not in registration and "full_name" not in registration
    # A late event about the erased member sends nothing and brings no data back.
    late = event_of("registration.promoted", who=who)
    await notify.publisher.publish(late)
    items = await notify.settled(late.id, 2)
    assert {(d["status"], d["reason"]) for d in items} == {("skipped", "erased")}
    await notify.publisher.publish(event_of("member.updated", m=m))
    reminder = event_of("event.reminder_due", who=registrant(member_id=m["member_id"]))
    await notify.publisher.publish(reminder)
    await notify.settled(reminder.id, 2)
    assert "email" not in await notify.db.contacts.find_one({"_id": m["member_id"]})


async def test_a_poison_event_is_parked_listed_and_replayed(notify):
    """An event whose data breaks its contract cannot succeed: parked at once, listed
    for staff, and put back to work on request."""
    conn = await aio_pika.connect_robust(notify.settings.amqp_url)
    channel = await conn.channel()
    exchange = await channel.get_exchange(notify.settings.bus_exchange)
    envelope = {
        "id": str(uuid.uuid4()),
        "type": "registration.confirmed",
        "version": 1,
        "occurred_at": "2026-11-27T09:00:00Z",
        "producer": "events",
        "data": {"ticket_code": "X"},
    }
    await exchange.publish(
        aio_pika.Message(json.dumps(envelope).encode(), message_id=envelope["id"], type=envelope["type"]),
        routing_key="registration.confirmed",
    )
    await conn.close()

    async def parked():
        letters = await notify.get("/notifications/dead-letters")
        return [e for e in letters["events"] if e["message_id"] == envelope["id"]]

    found = await eventually(parked, what="parked event listed")
    assert {e["handler"] for e in found} == {"deliveries", "directory"}
    assert "invalid event" in found[0]["last_error"]
    resp = await notify.client.post(
        "/notifications/dead-letters/replay", json={"handler": "deliveries"}, headers=notify.staff
    )
    assert resp.status == 200 and (await resp.json())["replayed"] == 1
    unknown = await notify.client.post(
        "/notifications/dead-letters/replay", json={"handler": "nope"}, headers=notify.staff
    )
    assert unknown.status == 404
    # ... and it is parked again, since it still cannot succeed; nothing was sent.
    await eventually(parked, what="parked again")
    # The same, through the parked-messages family every service declares (shared/parking.py).

    async def listed():
        report = await notify.get("/notifications/parked-messages")
        consumers = {c["consumer"]: c for c in report["consumers"]}
        found = [m for m in consumers["deliveries"]["messages"] if m["message_id"] == envelope["id"]]
        return report if found and consumers["deliveries"]["parked"] >= 1 else None

    report = await eventually(listed, what="listed as a parked message")
    assert report["service"] == "notifications" and report["unpublished"] == []
    again = await notify.client.post("/notifications/parked-messages/deliveries/replay", headers=notify.staff)
    assert again.status == 200 and (await again.json())["replayed"] >= 1
    nope = await notify.client.post("/notifications/parked-messages/nope/replay", headers=notify.staff)
    assert nope.status == 404
    assert notify.smtp.recorder.messages == []


async def _async(value):
    return value


async def test_after_erasure_no_notifications_collection_holds_the_email_or_phone(notify):
    """Issue 10.11: the SMS quota records kept the phone (in their ids too) and the
    suppression list the address. Every collection is read after the erasure."""
    import json

    from services.notifications.store import DeliveryStore, SuppressionStore
    from shared.contracts import MemberErased, new_event

    m = member(email="hang.do@example.vn", phone="+84912000777")
    who = registrant(member_id=m["member_id"], email=m["email"], phone=m["phone"])
    await notify.publisher.publish(event_of("member.approved", m=m))
    confirmed = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(confirmed)
    await notify.settled(confirmed.id, 2)
    # What the dispatcher records about these addresses: an announcement SMS counted, a bounce.
    await DeliveryStore(notify.db).take_quotas([(m["phone"], "campaign:c1:x:sms:announcement")], per_day=3)
    await SuppressionStore(notify.db).add(m["email"], "email", "550 no such user")
    await notify.publisher.publish(new_event(MemberErased(member_id=m["member_id"]), producer="membership"))

    async def traces():
        found = []
        for name in await notify.db.list_collection_names():
            async for doc in notify.db[name].find({}):
                text = json.dumps(doc, default=str, ensure_ascii=False)
                if m["email"] in text or m["phone"] in text or m["phone"][3:] in text:
                    found.append((name, doc["_id"]))
        return found

    async def gone():
        return not await traces()

    await eventually(gone, what="no copy of the email or phone left")


async def test_problems_follow_accept_language(notify):
    """Issue 10.12: notifications' problems were English only."""
    english = {**notify.staff, "Accept-Language": "en-GB,en;q=0.9"}
    vi = await notify.client.get("/notifications/campaigns/nope", headers=notify.staff)
    body = await vi.json()
    assert vi.status == 404 and body["title"] == "Không tìm thấy" and body["detail"] == "Không có chiến dịch này"
    en = await (await notify.client.get("/notifications/campaigns/nope", headers=english)).json()
    assert en["title"] == "Not found" and en["detail"] == "No such campaign"
    both_off = {"service": {"email": False, "sms": False}}
    refused = await notify.client.put("/notifications/preferences/m-1", json=both_off, headers=notify.staff)
    assert (await refused.json())["errors"][0]["message"] == "Tin dịch vụ phải bật ít nhất một kênh"
    refused = await notify.client.put("/notifications/preferences/m-1", json=both_off, headers=english)
    assert (await refused.json())["errors"][0]["message"] == "service messages must stay on for at least one channel"
    click = await notify.client.post("/notifications/unsubscribe?token=abcdefghijk.xyz", headers=notify.anonymous)
    assert (await click.json())["title"] == "Liên kết huỷ đăng ký này không hợp lệ"
    missing = await notify.client.get("/notifications/deliveries/nope", headers=english)
    assert (await missing.json())["detail"] == "No such delivery"


async def test_a_template_that_renders_too_much_is_refused_when_saved(notify):
    """Issue 10.10: templates rendered on the event loop without a budget: one that
    produced a million characters was saved, and every message carried them."""
    huge = "{% for i in range(100000) %}{{ full_name }} {% endfor %}"
    resp = await notify.client.put(
        "/notifications/templates/welcome/email/vi",
        json={"parts": {"subject": "Chào mừng", "text": huge}},
        headers={**notify.staff, "Accept-Language": "en"},
    )
    assert resp.status == 422, await resp.text()
    [error] = (await resp.json())["errors"]
    assert error["field"] == "parts.text" and "characters" in error["message"]
    assert (await notify.get("/notifications/templates/welcome/email/vi"))["version"] == 0
    # ... and one that works without writing anything is stopped at its deadline.
    endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"
    resp = await notify.client.put(
        "/notifications/templates/welcome/email/vi",
        json={"parts": {"subject": "Chào mừng", "text": endless}},
        headers={**notify.staff, "Accept-Language": "en"},
    )
    assert resp.status == 422 and "too long" in (await resp.json())["errors"][0]["message"]
    assert (await notify.client.get("/healthz")).status == 200


async def test_a_message_planned_while_its_member_was_erased_is_scrubbed_not_sent(notify):
    """Erasure marks the contact, then scrubs the log; a planner that read the contact
    just before the mark inserts its delivery after the scrub. The dispatcher asks
    which members of its batch were erased before sending: that delivery loses its
    address and body and is never sent."""
    from services.notifications.app import DISPATCHER
    from services.notifications.store import DeliveryStore
    from shared.contracts import MemberErased, new_event

    m = member()
    await notify.publisher.publish(new_event(MemberErased(member_id=m["member_id"]), producer="membership"))

    async def erased():
        contact = await notify.db.contacts.find_one({"_id": m["member_id"]})
        return contact if contact and contact.get("erased") else None

    await eventually(erased, what="contact erased")
    late = f"late:{m['member_id']}:email:welcome"
    await DeliveryStore(notify.db).plan(  # what the racing planner inserts after the scrub
        [
            {
                "_id": late,
                "channel": "email",
                "category": "service",
                "notification": "welcome",
                "member_id": m["member_id"],
                "recipient_id": m["member_id"],
                "to": m["email"],
                "to_name": m["full_name"],
                "content": {"subject": "Chào", "text": "Chào mừng", "html": "<p>Chào mừng</p>"},
                "source_event_id": "late",
                "source_event_type": "member.approved",
            }
        ]
    )
    notify.client.app[DISPATCHER].wake(["email"])

    async def scrubbed():
        d = await notify.db.deliveries.find_one({"_id": late})
        # Skipped and emptied: the two happen in two writes, the end state is what counts.
        return d if d["status"] == "skipped" and not {"to", "to_name", "content"} & set(d) else None

    d = await eventually(scrubbed, what="the late delivery scrubbed")
    assert d["reason"] == "erased" and not {"to", "to_name", "content"} & set(d)
    assert notify.smtp.recorder.to(m["email"]) == []
