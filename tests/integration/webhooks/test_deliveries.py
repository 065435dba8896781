"""Deliveries as partners see them: signed, retried, logged, sent again by hand, and only
what the key may read."""

from __future__ import annotations

import json

import pytest

from services.webhooks import signing
from shared.contracts import MemberErased
from tests.fakes.partner_events import DOCTORS, ENGINEERS, ENGINEERS_BRANCH, member
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_failed_tries_are_retried_and_a_delivery_can_be_sent_again_by_hand(hooks, receiver):
    portal = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(portal, receiver.url + "/hooks", ["member.approved"])
    receiver.answers.extend([(500, "down for maintenance", {}), (503, "busy", {"Retry-After": "0"})])
    await hooks.publish(member([ENGINEERS]))

    first, second, third = await receiver.wait_for("/hooks", 3)
    assert first.msg_id == second.msg_id == third.msg_id  # the same message each try
    assert first.headers["webhook-timestamp"] <= third.headers["webhook-timestamp"]
    # Each retry goes out when due (a fraction of a second here), not at the dispatcher's next look (every 30 s).
    assert third.at - first.at < 5
    for got in (first, third):
        assert signing.verify(
            endpoint["secret"],
            got.msg_id,
            int(got.headers["webhook-timestamp"]),
            got.body,
            got.headers["webhook-signature"],
        )

    async def delivered():
        items = await hooks.log(endpoint["id"], portal)
        return items if items and items[0]["state"] == "delivered" else None

    [delivery] = await eventually(delivered, what="the delivery logged as delivered")
    assert delivery["attempts"] == 3 and delivery["last_status_code"] == 200
    tries = delivery["log"]  # newest first
    assert [(t["attempt"], t["trigger"], t["outcome"], t["status_code"]) for t in tries] == [
        (3, "retry", "delivered", 200),
        (2, "retry", "failed", 503),
        (1, "event", "failed", 500),
    ]
    assert tries[2]["response_excerpt"] == "down for maintenance" and tries[0]["latency_ms"] >= 0

    resp = await hooks.client.post(
        f"/webhooks/endpoints/{endpoint['id']}/deliveries/{delivery['id']}/redeliver", headers=portal
    )
    assert resp.status == 202, await resp.text()
    again = await receiver.wait_for("/hooks", 4)
    assert again[3].msg_id == first.msg_id and again[3].body == first.body

    async def redelivered():
        [item] = await hooks.log(endpoint["id"], portal)
        return item if item["attempts"] == 4 and item["state"] == "delivered" else None

    item = await eventually(redelivered, what="the redelivery logged")
    assert item["log"][0]["trigger"] == "redelivery" and item["log"][0]["outcome"] == "delivered"


async def test_a_key_bound_to_one_association_never_hears_another_associations_events(hooks, receiver):
    engineers = hooks.key("e1e1e1e1", org=ENGINEERS)
    doctors = hooks.key("d0d0d0d0", org=DOCTORS)
    portal = hooks.key("a1b2c3d4")
    types = ["member.approved", "member.erased"]
    ep_engineers = await hooks.register(engineers, receiver.url + "/engineers", types)
    ep_doctors = await hooks.register(doctors, receiver.url + "/doctors", types)
    await hooks.register(portal, receiver.url + "/portal", types)

    in_branch = member([ENGINEERS_BRANCH], full_name="Kỹ sư Chi hội")
    in_doctors = member([DOCTORS], full_name="Bác sĩ Hội Y")
    in_both = member([ENGINEERS, DOCTORS], full_name="Cả hai hội")
    for data in (in_branch, in_doctors, in_both):
        await hooks.publish(data)
    await receiver.wait_for("/portal", 3)  # (an erasure stops what is not sent yet of the member)
    await hooks.publish(MemberErased(member_id=in_doctors.member_id))  # carries no organisation: the projection knows

    portal_got = await receiver.wait_for("/portal", 4)
    engineers_got = await receiver.wait_for("/engineers", 2)
    doctors_got = await receiver.wait_for("/doctors", 3)

    def names(got):
        return sorted(json.loads(r.body)["data"].get("member", {}).get("full_name", "(erased)") for r in got)

    assert names(portal_got) == ["(erased)", "Bác sĩ Hội Y", "Cả hai hội", "Kỹ sư Chi hội"]
    assert names(engineers_got) == ["Cả hai hội", "Kỹ sư Chi hội"]
    assert names(doctors_got) == ["(erased)", "Bác sĩ Hội Y", "Cả hai hội"]
    members = [json.loads(r.body)["data"]["member"] for r in engineers_got]
    both = next(m for m in members if m["member_id"] == in_both.member_id)
    assert both["organization_ids"] == [ENGINEERS]  # not which other association they belong to
    # nothing else is even queued for them: every delivery was decided when each event arrived
    assert len(await hooks.log(ep_engineers["id"], engineers)) == 2
    assert len(await hooks.log(ep_doctors["id"], doctors)) == 3


async def test_an_erasure_blanks_what_the_log_kept_of_the_member(hooks, receiver):
    portal = hooks.key("a1b2c3d4")
    endpoint = await hooks.register(portal, receiver.url + "/hooks", ["member.approved", "member.erased"])
    person = member([ENGINEERS], full_name="Sẽ Bị Xoá", email="xoa@example.vn")
    await hooks.publish(person)
    await receiver.wait_for("/hooks", 1)
    await hooks.publish(MemberErased(member_id=person.member_id))
    [_, erased] = await receiver.wait_for("/hooks", 2)
    assert json.loads(erased.body) == {
        "type": "member.erased",
        "timestamp": json.loads(erased.body)["timestamp"],
        "data": {"member_id": person.member_id},
    }
    kept = await hooks.db["deliveries"].find({}, {"body": 1, "event_type": 1}).to_list()
    assert all("xoa@example.vn" not in d["body"] for d in kept)
    [_, approved] = await hooks.log(endpoint["id"], portal)  # newest first
    resp = await hooks.client.post(
        f"/webhooks/endpoints/{endpoint['id']}/deliveries/{approved['id']}/redeliver", headers=portal
    )
    assert resp.status == 410  # nothing of the member is left to send
    assert await hooks.db["members"].count_documents({"_id": person.member_id}) == 0
