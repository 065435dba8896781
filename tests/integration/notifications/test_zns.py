"""Zalo ZNS first, SMS as the fallback (issue 16), against a fake Zalo API that plays
the real one's shapes and error codes (tests/fakes/zns_server.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from services.notifications.links import Links
from tests.fakes.notification_events import event_of, registrant
from tests.fakes.zns_server import FakeZns
from tests.support import eventually

pytestmark = pytest.mark.integration
TEMPLATES = {
    "registration_confirmed": {"vi": "301001", "en": "301002"},
    "event_reminder": {"vi": "999999"},  # a template Zalo has not approved
}


@pytest.fixture
async def zns() -> AsyncIterator[FakeZns]:
    server = await FakeZns().start()
    yield server
    await server.stop()


@pytest.fixture
async def notify(make_notify, sms, zns):
    return await make_notify(
        sms,
        zns_templates=json.dumps(TEMPLATES),
        zns_app_id=zns.app_id,
        zns_app_secret=zns.app_secret,
        zns_refresh_token="refresh-0",
        zns_api_url=zns.url,
        zns_oauth_url=f"{zns.url}/v4/oa/access_token",
    )


def by_phone(items):
    return next(d for d in items if d["channel"] in ("zns", "sms"))


async def test_a_member_with_zalo_gets_zns_and_no_sms(notify, zns):
    who = registrant(language="en")
    event = event_of("registration.confirmed", "en", who=who)
    await notify.publisher.publish(event)
    phone = by_phone(await notify.settled(event.id, 2))
    assert (phone["channel"], phone["status"]) == ("zns", "sent")
    [message] = zns.to(who.phone.lstrip("+"))
    assert message["phone"].startswith("84") and message["template_id"] == "301002"
    assert message["tracking_id"] == phone["key"]  # our delivery key
    assert message["template_data"]["ticket_code"] == "HT-7K3M9Q"
    assert message["template_data"]["event_name"] == "Digital transformation seminar"
    assert notify.sms.to(who.phone) == []
    # The tokens were refreshed and rotated, and live in the store (not in settings).
    stored = await notify.db.zns_tokens.find_one({"_id": "oa"})
    assert stored["refresh_token"] == "refresh-1" and stored["access_token"] == zns.access_token
    # Zalo's webhook says it reached the phone.
    token = Links(notify.settings).receipt_token("zns")
    receipt = {"event_name": "user_received_message", "message": {"tracking_id": phone["key"], "msg_id": "x"}}
    resp = await notify.client.post(
        f"/notifications/zns/receipts?token={token}", json=receipt, headers=notify.anonymous
    )
    assert resp.status == 200, await resp.text()
    assert (await notify.get(f"/notifications/deliveries/{phone['key']}"))["status"] == "delivered"
    forged = await notify.client.post(
        "/notifications/zns/receipts?token=abcdefghijk.xyz", json=receipt, headers=notify.anonymous
    )
    assert forged.status == 400


@pytest.mark.parametrize("refusal", ["not-on-zalo", "quota", "template"])
async def test_when_zalo_refuses_the_member_gets_the_sms_instead_and_only_that(notify, zns, refusal):
    who = registrant()
    kind = "event.reminder_due" if refusal == "template" else "registration.confirmed"
    if refusal == "not-on-zalo":
        zns.not_on_zalo.add(who.phone.lstrip("+"))
    elif refusal == "quota":
        zns.quota_left = 0
    event = event_of(kind, who=who)
    await notify.publisher.publish(event)
    phone = by_phone(await notify.settled(event.id, 2))
    assert (phone["channel"], phone["status"]) == ("sms", "sent")
    code = {"not-on-zalo": "-118", "quota": "-144", "template": "-117"}[refusal]
    assert phone["zns_refused"].startswith(f"ZNS error {code}")
    assert len(notify.sms.to(who.phone)) == 1 and zns.to(who.phone.lstrip("+")) == []
    assert notify.sms.to(who.phone)[0]["request_id"] == phone["key"]


async def test_the_access_token_is_refreshed_before_it_expires_and_when_zalo_calls_it_invalid(notify, zns):
    zns.expires_in = 300  # a token about to expire (within the refresh margin)
    first, second, third = (registrant() for _ in range(3))
    for who in (first, second):
        event = event_of("registration.confirmed", who=who)
        await notify.publisher.publish(event)
        assert by_phone(await notify.settled(event.id, 2))["channel"] == "zns"
        zns.expires_in = 90_000
    assert zns.refreshes == 2 and all(a["error"] == 0 for a in zns.answers)  # refreshed before, never refused
    zns.expire_token()  # Zalo ends the token early
    event = event_of("registration.confirmed", who=third)
    await notify.publisher.publish(event)
    assert by_phone(await notify.settled(event.id, 2))["channel"] == "zns"
    assert [a["error"] for a in zns.answers][-2:] == [-124, 0] and zns.refreshes == 3


async def test_a_member_who_opted_out_of_zalo_gets_sms(notify, zns):
    who = registrant(member_id="m-no-zalo")
    resp = await notify.client.put("/notifications/preferences/m-no-zalo", json={"zalo": False}, headers=notify.staff)
    assert resp.status == 200 and (await resp.json())["zalo"] is False
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    assert by_phone(await notify.settled(event.id, 2))["channel"] == "sms"
    await eventually(lambda: _async(notify.sms.to(who.phone)), what="the SMS")
    assert zns.received == []


async def _async(value):
    return value
