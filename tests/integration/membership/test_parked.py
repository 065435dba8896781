"""Membership's parked messages (issue 11.6): one staff endpoint family for every
service. Membership consumes nothing, so what it can park is an event its outbox set
aside; staff list it and send it through again."""

from __future__ import annotations

import pytest

from shared.clock import epoch
from shared.contracts import MemberUpdated, new_event
from shared.mongo import connect
from shared.outbox import ASIDE, HAS_ASIDE

pytestmark = pytest.mark.integration


async def test_staff_list_and_replay_the_events_the_outbox_set_aside(client, admin, signed, events, settings):
    member = await (await client.post("/members", headers=admin, json={"full_name": "Đỗ Thị Treo"})).json()
    stuck = new_event(
        MemberUpdated(member_id=member["id"], full_name="Đỗ Thị Treo", status="active"), producer="membership"
    )
    store = connect(settings.mongo_url)
    try:
        aside = {"event": stuck.model_dump_json(), "error": "NO_ROUTE", "tries": 8, "at": epoch()}
        await store[settings.database("membership")]["members"].update_one(
            {"_id": member["id"]}, {"$set": {f"{ASIDE}.{stuck.id}": aside, HAS_ASIDE: True}}
        )
    finally:
        await store.close()

    manager = signed(sub="staff:m", roles=("manager",), organization_id="x")
    assert (await client.get("/membership/parked-messages", headers=manager)).status == 403
    listing = await (await client.get("/membership/parked-messages", headers=admin)).json()
    assert listing["service"] == "membership" and listing["consumers"] == []
    [parked] = listing["unpublished"]
    assert (parked["event_id"], parked["type"], parked["collection"], parked["document_id"]) == (
        stuck.id,
        "member.updated",
        "members",
        member["id"],
    )

    assert (await client.post("/membership/parked-messages/nobody/replay", headers=admin)).status == 404
    replayed = await client.post("/membership/parked-messages/outbox/replay", headers=admin)
    assert replayed.status == 200 and (await replayed.json())["replayed"] == 1
    await events.wait_for("member.updated", member["id"])
    assert stuck.id in events.ids
    assert (await (await client.get("/membership/parked-messages", headers=admin)).json())["unpublished"] == []
