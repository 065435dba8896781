"""What the dispatcher does when a mail server answers late, and with addresses that
are not ASCII: against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from services.notifications.app import DISPATCHER
from shared.mongo import epoch
from tests.fakes.notification_events import event_of, member
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
