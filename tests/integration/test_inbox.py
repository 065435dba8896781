"""The inbox under cancellation and lost holders: a claim whose holder is gone is
taken over promptly, and a cancelled claim leaves no record behind."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.clock import epoch
from shared.inbox import MongoInbox

pytestmark = pytest.mark.integration


async def test_a_claim_cancelled_while_it_is_being_written_leaves_nothing_behind(db):
    inbox = MongoInbox(db)
    claiming = asyncio.create_task(inbox.claim("svc.q", "ev-1"))
    await asyncio.sleep(0)  # the claim is on its way to the store
    claiming.cancel()
    with pytest.raises(asyncio.CancelledError):
        await claiming
    # The redelivered copy (this process or another) can claim it at once.
    started = time.monotonic()
    while await inbox.claim("svc.q", "ev-1") != "claimed":
        assert time.monotonic() - started < 2, "the cancelled claim still blocks the event"
        await asyncio.sleep(0.05)
    await inbox.close()


async def test_a_claim_held_by_this_process_but_no_longer_worked_on_is_taken_over_at_once(db):
    inbox = MongoInbox(db)
    assert await inbox.claim("svc.q", "ev-2") == "claimed"
    # Its handler was lost (e.g. cancelled with the broker connection) without releasing it.
    inbox.forget("svc.q", "ev-2")
    assert await inbox.claim("svc.q", "ev-2") == "claimed"
    await inbox.close()


async def test_a_live_claim_is_busy_and_a_dead_processs_claim_is_taken_over_within_its_short_lease(db):
    alive, dead = MongoInbox(db, lease_seconds=0.6, renew_seconds=0.1), MongoInbox(db, lease_seconds=0.6)
    assert await alive.claim("svc.q", "ev-3") == "claimed"
    assert await dead.claim("svc.q", "ev-4") == "claimed"
    dead._active.clear()  # the process died: nothing renews its leases any more
    dead._renewer.start = lambda: None  # type: ignore[method-assign]
    other = MongoInbox(db)
    await asyncio.sleep(1.0)
    assert await other.claim("svc.q", "ev-3") == "busy", "its holder renews the lease while it works"
    assert await other.claim("svc.q", "ev-4") == "claimed", "the dead holder's lease lapsed"
    record = await db["inbox"].find_one({"_id": "svc.q:ev-3"})
    assert record["lease_until"] > epoch()
    for inbox in (alive, dead, other):
        await inbox.close()
