"""Each event type the routing table names produces the right messages, in
Vietnamese and English, on the right channels, and exactly once."""

from __future__ import annotations

import pytest

from tests.fakes.notification_events import event_of, member, registrant
from tests.support import eventually

pytestmark = pytest.mark.integration

# event type → (email subject start vi, en), SMS start (vi without diacritics, en) or None
EXPECTED = {
    "member.applied": (("Đơn gia nhập mới cần xét duyệt: Đỗ Thị Hằng", "New membership application"), None),
    "member.approved": (("Chào mừng Đỗ Thị Hằng", "Welcome to"), None),
    "membership.expiring": (
        ("Hội viên của Anh/Chị sẽ hết hạn ngày 31/12/2026", "Your membership ends on 31 Dec 2026"),
        None,
    ),
    "membership.lapsed": (("Tư cách hội viên của Anh/Chị đã hết hạn", "Your membership has ended"), None),
    "membership.renewed": (("Gia hạn hội viên thành công đến ngày 31/12/2027", "Membership renewed until"), None),
    "event.cancelled": (
        ("Thông báo hủy: Hội thảo Chuyển đổi số", "Cancelled: Digital transformation seminar"),
        (
            'Su kien "Hoi thao Chuyen doi so" luc 08:30 ngay 15/12/2026 da bi HUY',
            '"Digital transformation seminar" on 15 Dec 2026, 08:30 is CANCELLED',
        ),
    ),
    "registration.confirmed": (
        ("Xác nhận đăng ký: Hội thảo Chuyển đổi số", "Registration confirmed: Digital"),
        (
            'Xac nhan dang ky "Hoi thao Chuyen doi so" luc 08:30 ngay 15/12/2026. Ma ve: HT-7K3M9Q',
            'Registration confirmed: "Digital transformation seminar", 15 Dec 2026, 08:30',
        ),
    ),
    "registration.waitlisted": (("Danh sách chờ: Hội thảo Chuyển đổi số", "Waiting list: Digital"), None),
    "registration.promoted": (
        ("Đã có chỗ cho Anh/Chị: Hội thảo", "A seat for you: Digital"),
        ("Da co cho cho Anh/Chi", "A seat is yours"),
    ),
    "registration.cancelled": (("Đã hủy đăng ký: Hội thảo", "Registration cancelled: Digital"), None),
    "event.reminder_due": (
        ("Nhắc lịch: Hội thảo Chuyển đổi số lúc 08:30 ngày 15/12/2026", "Reminder: Digital"),
        ('Nhac lich: "Hoi thao Chuyen doi so" luc 08:30 ngay 15/12/2026 tai Hoi truong Lien hiep Hoi.', "Reminder: "),
    ),
    "certificate.issued": (("Giấy chứng nhận: Hội thảo Chuyển đổi số", "Your certificate: Digital"), None),
}


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_every_routed_event_sends_its_messages_in_the_persons_language(notify, language):
    published = {}
    for kind in EXPECTED:
        m = member(language=language, full_name="Đỗ Thị Hằng")
        who = registrant(language=language)
        event = event_of(kind, language, who=who, m=m)
        published[kind] = (event, who, m)
        await notify.publisher.publish(event)
    index = 0 if language == "vi" else 1
    for kind, (subjects, sms_texts) in EXPECTED.items():
        event, who, m = published[kind]
        channels = 2 if sms_texts else 1
        items = await notify.settled(event.id, channels)
        assert {d["status"] for d in items} == {"sent"}, (kind, items)
        address = (
            "review@hoi-tin-hoc.vn"
            if kind == "member.applied"
            else (m["email"] if kind.startswith("member") else who.email)
        )
        if kind == "member.applied":  # staff read in Vietnamese whatever the applicant speaks
            mails = [x for x in notify.smtp.recorder.to(address) if "Trần" not in str(x["Subject"])]
            assert any(str(x["Subject"]).startswith(subjects[0]) for x in mails), [str(x["Subject"]) for x in mails]
            continue
        mails = notify.smtp.recorder.to(address)
        assert len(mails) == 1, kind
        assert str(mails[0]["Subject"]).startswith(subjects[index]), (kind, str(mails[0]["Subject"]))
        assert mails[0].get_body(("html",)) is not None and mails[0].get_body(("plain",)) is not None
        if sms_texts:
            sent = notify.sms.to(who.phone)
            assert len(sent) == 1, kind
            assert sent[0]["text"].startswith(sms_texts[index]), (kind, sent[0]["text"])
            assert sent[0]["sender"] == "LIENHIEP"
            sms_delivery = next(d for d in items if d["channel"] == "sms")
            assert sent[0]["request_id"] == sms_delivery["key"]  # the provider can drop a repeat
            assert sms_delivery["segments"] == 1 and sms_delivery["encoding"] == "gsm7"


async def test_a_confirmation_carries_the_ticket_as_a_qr_image(notify):
    who = registrant()
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    await notify.settled(event.id, 2)
    mail = notify.smtp.recorder.to(who.email)[0]
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<qr>"
    assert images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="cid:qr"' in mail.get_body(("html",)).get_content()
    assert "Mã vé: HT-7K3M9Q" in mail.get_body(("plain",)).get_content()


async def test_the_same_event_published_again_and_again_is_sent_once(notify):
    who = registrant()
    event = event_of("registration.confirmed", who=who)
    for _ in range(4):
        await notify.publisher.publish(event)
    items = await notify.settled(event.id, 2)
    assert sorted(d["attempts"] for d in items) == [1, 1]
    await eventually(lambda: _handled(notify, 4), what="every copy handled")
    assert len(notify.smtp.recorder.to(who.email)) == 1
    assert len(notify.sms.to(who.phone)) == 1


async def test_a_member_without_sms_consent_gets_email_only_and_the_log_says_why(notify):
    m = member(consents={"email": True, "sms": False})
    who = registrant(member_id=m["member_id"], phone=m["phone"], email=m["email"])
    await notify.publisher.publish(event_of("member.approved", m=m))
    await eventually(lambda: notify.db.contacts.find_one({"_id": m["member_id"]}), what="contact projected")
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    items = {d["channel"]: d for d in await notify.settled(event.id, 2)}
    assert items["email"]["status"] == "sent"
    assert items["sms"]["status"] == "skipped" and items["sms"]["reason"] == "no-consent"
    assert notify.sms.to(m["phone"]) == []


async def _handled(notify, copies):
    """The deliveries subscription handled (and acknowledged) this many copies. It keeps
    no inbox (handlers.py: its delivery keys decide duplicates), so the bus counts."""
    from shared.service import RUNTIME

    deliveries = next(s for s in notify.client.app[RUNTIME].bus.subscriptions if s.name == "deliveries")
    return deliveries.handled >= copies


async def test_a_replica_killed_mid_way_and_the_restarted_service_send_once(make_notify, sms, settings, smtp):
    """A replica planned an event's deliveries, claimed them for sending and died
    before sending and before acknowledging the event; its delivery leases run out.
    The broker redelivers the event to the restarted service (the subscription keeps
    no inbox: the delivery keys decide): each message goes out once."""
    from services.notifications.app import DISPATCHER
    from services.notifications.catalogue import ROUTES, recipients
    from services.notifications.planner import Planner
    from services.notifications.projections import ContactStore
    from services.notifications.rendering import Renderer
    from services.notifications.store import DeliveryStore
    from services.notifications.templates import TemplateStore
    from shared.clock import epoch
    from shared.contracts import parse_data
    from shared.mongo import connect
    from tests.integration.notifications.conftest import notify_settings

    s = notify_settings(settings, smtp, sms)
    client = connect(s.mongo_url)
    db = client[s.database("notifications")]
    who = registrant()
    event = event_of("registration.confirmed", who=who)
    renderer = Renderer()
    deliveries = DeliveryStore(db)
    route = ROUTES[event.type][0]
    dying = Planner(s, ContactStore(db), deliveries, TemplateStore(db, renderer), renderer)
    assert (
        len(await dying.plan(route, recipients(route, parse_data(event)), source_id=event.id, source_type=event.type))
        == 2
    )
    assert len(await deliveries.claim_due(10, lease_seconds=0.2)) == 2

    async def leases_ran_out():
        claimed = await db.deliveries.find({"source_event_id": event.id}).to_list()
        return all(epoch() > d["lease_until"] for d in claimed)

    await eventually(leases_ran_out, what="leases ran out")

    notify = await make_notify(sms)
    notify.client.app[DISPATCHER].sweep_seconds = 0.1
    await notify.publisher.publish(event)  # the broker's redelivery
    items = await notify.settled(event.id, 2)
    assert {d["status"] for d in items} == {"sent"}
    await eventually(lambda: _handled(notify, 1), what="event handled")
    assert len(notify.smtp.recorder.to(who.email)) == 1 and len(notify.sms.to(who.phone)) == 1
    await client.close()


async def _async(value):
    return value


async def test_registrants_hear_of_a_new_date_or_venue_and_of_a_cancellation(notify):
    """Issue 11.1 (consumer side): event.updated had no consumer. A published change of
    date or venue reaches every registrant (from the registrations notifications kept,
    when the event does not list them); a change of capacity reaches nobody; a
    cancellation that lists nobody still reaches them."""
    from datetime import timedelta

    from shared.contracts import EventCancelled, EventUpdated, RegistrationConfirmed, new_event
    from tests.fakes.notification_events import SEMINAR

    event = SEMINAR.model_copy(update={"event_id": "ev-moved"})
    people = [registrant(language=lang) for lang in ("vi", "en")]
    for who in people:
        await notify.publisher.publish(
            new_event(
                RegistrationConfirmed(event=event, registrant=who, ticket_code="HT-MOVED1"),
                producer="events",
            )
        )
    await eventually(
        lambda: _count(notify.db.registrations, {"event_id": "ev-moved", "status": "active"}, 2),
        what="registrations projected",
    )
    capacity = new_event(EventUpdated(event=event, changed=["capacity"]), producer="events")
    await notify.publisher.publish(capacity)
    moved = event.model_copy(
        update={"venue": "Nhà văn hoá Thanh niên", "starts_at": event.starts_at + timedelta(days=1)}
    )
    changed = new_event(EventUpdated(event=moved, changed=["sessions", "venue"], previous=event), producer="events")
    await notify.publisher.publish(changed)
    items = await notify.settled(changed.id, 4)
    assert {d["status"] for d in items} == {"sent"}
    vi, en = people
    mail = next(x for x in notify.smtp.recorder.to(vi.email) if "Thay đổi" in str(x["Subject"]))
    body = mail.get_body(("plain",)).get_content()
    assert "Nhà văn hoá Thanh niên" in body and "16/12/2026" in body and "về thời gian và về địa điểm" in body
    assert "Trước đây: 08:30 ngày 15/12/2026, tại Hội trường Liên hiệp Hội" in body
    assert any(str(x["Subject"]).startswith("Changed:") for x in notify.smtp.recorder.to(en.email))
    assert notify.sms.to(en.phone)[-1]["text"].startswith('Changed: "Digital transformation seminar" now 16 Dec')
    assert await notify.deliveries(event_id=capacity.id) == []
    cancelled = new_event(EventCancelled(event=moved, reason="Bão"), producer="events")
    await notify.publisher.publish(cancelled)
    told = await notify.settled(cancelled.id, 4)
    assert {d["recipient_id"] for d in told} == {d["recipient_id"] for d in items}


async def _count(collection, query, n):
    return await collection.count_documents(query) == n
