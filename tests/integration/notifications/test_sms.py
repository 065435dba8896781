"""SMS through both providers, each a real HTTP server the test runs: retries on
429/5xx with the same request id, permanent refusals, the dead-letter list and its
replay, eSMS.vn's request shape and result codes, delivery receipts."""

from __future__ import annotations

import pytest

from services.notifications.links import Links
from tests.fakes.notification_events import event_of, registrant
from tests.fakes.sms_provider import FakeSmsProvider
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def esms():
    provider = await FakeSmsProvider(shape="esms").start()
    yield provider
    await provider.stop()


def sms_of(items):
    return next(d for d in items if d["channel"] == "sms")


async def test_a_429_is_retried_with_the_same_request_id_and_sent_once(notify):
    who = registrant()
    notify.sms.scripted[who.phone] = [429, 503]
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    delivery = sms_of(await notify.settled(event.id, 2))
    assert delivery["status"] == "sent" and delivery["attempts"] == 3
    tries = [r for r in notify.sms.received if r["to"] == who.phone]
    assert [r["_answer"] for r in tries] == [429, 503, 200]
    assert {r["request_id"] for r in tries} == {delivery["key"]}
    assert delivery["provider_id"].startswith("fake-")


async def test_a_permanent_refusal_is_not_retried(notify):
    who = registrant()
    notify.sms.scripted[who.phone] = [400]
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    delivery = sms_of(await notify.settled(event.id, 2))
    assert delivery["status"] == "failed" and delivery["attempts"] == 1
    assert "400" in delivery["last_error"]


async def test_a_delivery_that_fails_every_attempt_is_dead_lettered_and_staff_can_replay_it(notify):
    who = registrant()
    notify.sms.scripted[who.phone] = [500, 500, 500]
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    delivery = sms_of(await notify.settled(event.id, 2))
    assert delivery["status"] == "dead" and delivery["attempts"] == 3
    dead = await notify.get("/notifications/dead-letters")
    assert [d["key"] for d in dead["deliveries"]] == [delivery["key"]]
    resp = await notify.client.post(f"/notifications/deliveries/{delivery['key']}/replay", headers=notify.staff)
    assert resp.status == 200, await resp.text()
    sent = await eventually(lambda: _status(notify, delivery["key"], "sent"), what="replayed delivery sent")
    assert sent["attempts"] == 1 and len(notify.sms.to(who.phone)) == 1
    again = await notify.client.post(f"/notifications/deliveries/{delivery['key']}/replay", headers=notify.staff)
    assert again.status == 409


async def test_the_esms_adapter_speaks_its_shape_and_understands_its_codes(make_notify, esms):
    notify = await make_notify(esms)
    ok, flaky, refused = registrant(), registrant(), registrant()
    esms.scripted[flaky.phone] = ["99"]
    esms.scripted[refused.phone] = ["104"]  # brandname not registered: permanent
    events = {who.phone: event_of("registration.confirmed", who=who) for who in (ok, flaky, refused)}
    for event in events.values():
        await notify.publisher.publish(event)
    results = {phone: sms_of(await notify.settled(e.id, 2)) for phone, e in events.items()}
    assert results[ok.phone]["status"] == "sent" and results[ok.phone]["provider_id"].startswith("esms-")
    assert results[flaky.phone]["status"] == "sent" and results[flaky.phone]["attempts"] == 2
    assert results[refused.phone]["status"] == "failed" and "104" in results[refused.phone]["last_error"]
    request = esms.to(ok.phone)[0]
    assert request["Phone"] == ok.phone.removeprefix("+") and request["Brandname"] == "LIENHIEP"
    assert (request["ApiKey"], request["SecretKey"], request["SmsType"], request["IsUnicode"]) == (
        "key",
        "secret",
        "2",
        "0",
    )
    assert request["RequestId"] == results[ok.phone]["key"]
    assert request["Content"].startswith("Xac nhan dang ky")
    assert "/api/v1/notifications/receipts/esms?token=" in request["CallbackUrl"]


async def test_unicode_mode_keeps_diacritics_and_counts_ucs2_segments(make_notify, sms):
    notify = await make_notify(sms, sms_unicode=True)
    who = registrant()
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    delivery = sms_of(await notify.settled(event.id, 2))
    assert notify.sms.to(who.phone)[0]["text"].startswith('Xác nhận đăng ký "Hội thảo Chuyển đổi số"')
    assert delivery["encoding"] == "ucs2" and delivery["segments"] == 2


async def test_a_delivery_receipt_marks_the_sms_delivered_or_undelivered(notify):
    who, other = registrant(), registrant()
    events = [event_of("registration.confirmed", who=w) for w in (who, other)]
    for e in events:
        await notify.publisher.publish(e)
    keys = [sms_of(await notify.settled(e.id, 2))["key"] for e in events]
    token = Links(notify.settings).receipt_token("http")
    url = f"/notifications/receipts/http?token={token}"
    resp = await notify.client.post(url, json={"request_id": keys[0], "status": "delivered"}, headers=notify.anonymous)
    assert resp.status == 200, await resp.text()
    resp = await notify.client.post(
        url, json={"request_id": keys[1], "status": "failed", "error": "absent"}, headers=notify.anonymous
    )
    assert resp.status == 200
    assert (await _status(notify, keys[0], "delivered")) and (await _status(notify, keys[1], "undelivered"))
    esms_style = await notify.client.post(url, json={"RequestId": keys[0], "SendStatus": 5}, headers=notify.anonymous)
    assert esms_style.status == 200
    forged = await notify.client.post(
        f"/notifications/receipts/http?token={token[:-3]}abc",
        json={"request_id": keys[0], "status": "failed"},
        headers=notify.anonymous,
    )
    assert forged.status == 400
    unknown = await notify.client.post(
        url, json={"request_id": "nope", "status": "delivered"}, headers=notify.anonymous
    )
    assert unknown.status == 404
    incomplete = await notify.client.post(url, json={"status": "delivered"}, headers=notify.anonymous)
    assert incomplete.status == 422


async def _status(notify, key, status):
    d = await notify.get(f"/notifications/deliveries/{key}")
    return d if d["status"] == status else None


async def test_without_a_provider_sms_wait_instead_of_failing(make_notify, sms):
    notify = await make_notify(sms, sms_provider_url="")
    who = registrant()
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)

    async def waiting():
        items = await notify.deliveries(event_id=event.id)
        return [d for d in items if d["channel"] == "sms" and d.get("held") == "no-provider"]

    [held] = await eventually(waiting, what="sms held for a provider")
    assert held["status"] == "queued" and held["attempts"] == 0 and "SMS_PROVIDER_URL" in held["last_error"]


async def test_a_crash_mid_batch_sends_again_only_what_was_in_flight(notify, sms):
    """Issue 11.2: outcomes were recorded once for the whole batch, so a kill -9 while
    the last messages of a batch were with the provider sent the whole batch again after
    the lease. Now each accepted message is recorded within a small group: a crash
    repeats only what was in flight. The delivery key travels as the idempotency key."""
    import asyncio

    from services.notifications.app import DISPATCHER
    from services.notifications.dispatcher import Dispatcher
    from services.notifications.email import SmtpSender
    from services.notifications.sms import HttpJsonProvider
    from services.notifications.store import DeliveryStore, SuppressionStore

    await notify.client.app[DISPATCHER].stop()  # only the dispatchers of this test run
    s, deliveries = notify.settings, DeliveryStore(notify.db)
    phones = [f"+8498{i:07d}" for i in range(30)]
    for phone in phones[20:]:
        sms.scripted[phone].append("hang")  # the provider takes these and never answers
    await deliveries.plan(
        [
            {
                "_id": f"crash:{i}:sms",
                "channel": "sms",
                "category": "service",
                "notification": "event_reminder",
                "to": phone,
                "content": {"text": "Nhac lich: hoi thao ngay mai"},
                "source_event_id": "crash",
                "source_event_type": "test",
            }
            for i, phone in enumerate(phones)
        ]
    )
    provider = HttpJsonProvider(sms.url, sms.token, "LIENHIEP")
    dying = Dispatcher(s, deliveries, SuppressionStore(notify.db), SmtpSender(s), provider)
    sending = asyncio.create_task(dying.run_once())

    async def recorded():
        sent = await notify.db.deliveries.count_documents({"source_event_id": "crash", "status": "sent"})
        return sent == 20 and sms.hanging == 10

    await eventually(recorded, what="the 20 accepted messages recorded while 10 are in flight")
    sending.cancel()  # the process dies here
    await asyncio.gather(sending, return_exceptions=True)
    await provider.close()
    assert {r["idempotency_key"] for r in sms.accepted()} == {f"crash:{i}:sms" for i in range(20)}

    await notify.db.deliveries.update_many({"status": "sending"}, {"$set": {"lease_until": 0}})  # the lease runs out
    provider = HttpJsonProvider(sms.url, sms.token, "LIENHIEP")
    await Dispatcher(s, deliveries, SuppressionStore(notify.db), SmtpSender(s), provider).run_once()
    await provider.close()
    assert sorted(sms.number(r) for r in sms.accepted()) == sorted(phones)  # each once: none doubled
    assert await notify.db.deliveries.count_documents({"source_event_id": "crash", "status": "sent"}) == 30


async def test_provider_answers_are_read_within_a_limit_and_odd_ids_are_not_kept(notify):
    """Issue 10.10: a provider's answer was read whole (any size) and its message id
    kept as it came, control characters included."""
    big, odd = registrant(), registrant()
    notify.sms.scripted[big.phone] = [{"raw": b'{"id": "' + b"x" * (2 * 1024 * 1024) + b'"}'}]
    notify.sms.scripted[odd.phone] = [{"body": {"id": "abc\r\nX-Injected: 1\x00"}}]
    events = [event_of("registration.confirmed", who=who) for who in (big, odd)]
    for event in events:
        await notify.publisher.publish(event)
    too_big = sms_of(await notify.settled(events[0].id, 2))
    assert (too_big["status"], too_big["attempts"]) == ("sent", 2)  # the oversized answer was not taken as one
    assert len(too_big.get("provider_id") or "") < 200
    odd_id = sms_of(await notify.settled(events[1].id, 2))
    assert odd_id["status"] == "sent" and odd_id.get("provider_id") is None


async def test_an_idle_dispatcher_sleeps_until_its_next_due_delivery(notify, sms):
    """Issue 14: an idle dispatcher does not poll the store. It looks once when it starts,
    then sleeps; a message planned in this process wakes it, and a retry it deferred
    itself goes out when due without anyone waking it."""
    import asyncio

    from services.notifications.app import DISPATCHER
    from services.notifications.dispatcher import Dispatcher
    from services.notifications.email import SmtpSender
    from services.notifications.sms import HttpJsonProvider
    from services.notifications.store import DeliveryStore, SuppressionStore

    class Counting(DeliveryStore):
        looks = 0

        async def claim_due(self, *args, **kwargs):
            Counting.looks += 1
            return await super().claim_due(*args, **kwargs)

    s = notify.settings
    await notify.client.app[DISPATCHER].stop()  # only our dispatcher runs in this test
    deliveries = Counting(notify.db)
    provider = HttpJsonProvider(sms.url, sms.token, "LIENHIEP")
    dispatcher = Dispatcher(s, deliveries, SuppressionStore(notify.db), SmtpSender(s), provider)
    dispatcher.start()
    try:
        await eventually(lambda: _async(Counting.looks >= 2), what="the first look (email and SMS)")
        await asyncio.sleep(1.0)
        assert Counting.looks == 2  # idle: not one query since

        phone = "+84987000222"
        sms.scripted[phone] = [503]  # the provider is busy once: retried after 0.2 s
        await deliveries.plan(
            [
                {
                    "_id": "idle:1:sms",
                    "channel": "sms",
                    "category": "service",
                    "notification": "event_reminder",
                    "to": phone,
                    "content": {"text": "Nhac lich: hoi thao ngay mai"},
                    "source_event_id": "idle",
                    "source_event_type": "test",
                }
            ]
        )
        dispatcher.wake(["sms"])

        async def sent():
            d = await notify.db.deliveries.find_one({"_id": "idle:1:sms"})
            return d if d["status"] == "sent" else None

        done = await eventually(sent, what="sent on the retry, when due")
        assert done["attempts"] == 2 and len(sms.to(phone)) == 1  # refused once, then taken
        assert Counting.looks <= 5  # the first look, the wake-up (SMS only), the retry when due
    finally:
        await dispatcher.stop()
        await provider.close()


async def _async(value):
    return value
