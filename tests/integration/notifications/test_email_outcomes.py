"""What the dispatcher does when a mail server answers late, and with addresses that
are not ASCII: against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from services.notifications.app import DISPATCHER
from shared.clock import epoch
from tests.fakes.notification_events import event_of, member, registrant
from tests.support import eventually

pytestmark = pytest.mark.integration


async def _delivery(notify, event_id):
    items = await notify.deliveries(event_id=event_id)
    return items[0] if items else None


async def test_a_timeout_after_data_is_an_unknown_outcome_resent_later_with_the_same_message_id(make_notify, sms):
    """Issue 11.3: the server took the message but answered after our timeout; it was
    treated as a refusal and sent again 30 s later. Now it waits the longer delay,
    is counted in /metrics, and the copy sent then carries the same Message-ID."""
    notify = await make_notify(sms, smtp_timeout_seconds=0.5, notify_unknown_outcome_seconds=3600)
    m = member()
    notify.smtp.recorder.slow[m["email"].lower()] = 1.5
    event = event_of("member.approved", m=m)
    await notify.publisher.publish(event)

    async def unknown():
        d = await _delivery(notify, event.id)
        return d if d and d.get("held") == "unknown-outcome" else None

    held = await eventually(unknown, what="the delivery waits with an unknown outcome")
    assert held["status"] == "queued" and held["attempts"] == 1 and "no answer" in held["last_error"]
    stored = await notify.db.deliveries.find_one({"_id": held["key"]})
    assert stored["due"] > epoch() + 3000  # not before the longer wait
    await eventually(lambda: _async(notify.smtp.recorder.to(m["email"])), what="the late-accepted copy")
    metrics = await (await notify.client.get("/metrics")).text()
    assert 'lienhiep_notifications_unknown_outcomes_total{channel="email"} 1.0' in metrics

    notify.smtp.recorder.slow.clear()
    await notify.db.deliveries.update_one({"_id": held["key"]}, {"$set": {"due": 0}})  # the wait is over
    notify.client.app[DISPATCHER].wake()

    async def sent():
        d = await _delivery(notify, event.id)
        return d if d and d["status"] == "sent" else None

    done = await eventually(sent, what="resent after the wait")
    assert done.get("held") is None
    copies = notify.smtp.recorder.to(m["email"])
    assert len(copies) == 2 and copies[0]["Message-ID"] == copies[1]["Message-ID"]


async def _async(value):
    return value


async def test_an_internationalised_address_goes_out_with_smtputf8_when_the_server_offers_it(make_notify, sms):
    """Issue 10.10: such an address broke the message's encoding, was retried and
    dead-lettered. Now: SMTPUTF8 for the local part, the domain in its IDNA form."""
    from tests.smtp_server import SmtpServer

    with SmtpServer(smtputf8=True) as utf8:
        notify = await make_notify(sms, smtp_port=utf8.port)
        who = registrant(email="nguyễn.mai@bưuđiện.vn")
        event = event_of("registration.confirmed", who=who)
        await notify.publisher.publish(event)
        items = {d["channel"]: d for d in await notify.settled(event.id, 2)}
        assert items["email"]["status"] == "sent", items["email"]
        [(rcpts, options)] = utf8.recorder.envelopes
        assert "SMTPUTF8" in options and rcpts == ["nguyễn.mai@xn--buin-1ua66gr30m.vn"]
        assert "nguyễn.mai@xn--buin-1ua66gr30m.vn" in str(utf8.recorder.messages[0]["To"])


async def test_an_internationalised_address_is_refused_at_once_by_a_server_without_smtputf8(notify):
    who = registrant(email="nguyễn.mai@example.vn")
    event = event_of("registration.confirmed", who=who)
    await notify.publisher.publish(event)
    items = {d["channel"]: d for d in await notify.settled(event.id, 2)}
    email = items["email"]
    assert (email["status"], email["attempts"]) == ("failed", 1), email
    assert "SMTPUTF8" in email["last_error"]
    assert items["sms"]["status"] == "sent"
