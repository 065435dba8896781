"""Registration that never overbooks: the rush, the waiting list, racing cancellations,
idempotent retries and who may register."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.integration.events.conftest import gather_limited, heard

pytestmark = pytest.mark.integration


async def test_the_rush_confirms_exactly_the_capacity_and_queues_the_rest(svc):
    event = await svc.event(capacity=50)
    responses = await gather_limited([svc.guest(event["id"], i) for i in range(300)])
    answers = [await r.json() for r in responses]
    assert Counter(r.status for r in responses) == {201: 300}
    statuses = Counter(a["status"] for a in answers)
    assert statuses == {"confirmed": 50, "waitlisted": 250}
    tickets = [a["ticket_code"] for a in answers if a["status"] == "confirmed"]
    assert len(set(tickets)) == 50 and all(len(t) == 19 for t in tickets)
    positions = sorted(a["position"] for a in answers if a["status"] == "waitlisted")
    assert positions == list(range(1, 251)), "each waiting person has their own place in the queue"
    counters = await svc.counters(event["id"])
    assert (counters["confirmed"], counters["seats_free"], counters["waiting"]) == (50, 0, 250)

    again = await svc.guest(event["id"], 7)  # the same guest (by email) a second time
    assert again.status == 409
    body = await again.json()
    assert body["type"].endswith("/duplicate-registration") and body["field"] == "email"


async def test_racing_cancellations_promote_exactly_one_person_each(svc):
    event = await svc.event(capacity=4)
    regs = [await (await svc.guest(event["id"], i)).json() for i in range(10)]
    confirmed = [r for r in regs if r["status"] == "confirmed"]
    waiting = [r for r in regs if r["status"] == "waitlisted"]
    assert len(confirmed) == 4 and [w["position"] for w in waiting] == [1, 2, 3, 4, 5, 6]

    # Three seats freed at once, one of them by two callers at the same moment.
    targets = [confirmed[0]["id"], confirmed[0]["id"], confirmed[1]["id"], confirmed[2]["id"]]
    results = await asyncio.gather(*(svc.client.delete(f"/registrations/{t}", headers=svc.partner) for t in targets))
    assert sorted(r.status for r in results) == [200, 200, 200, 409]
    counters = await svc.counters(event["id"])
    assert (counters["confirmed"], counters["seats_free"], counters["waiting"]) == (4, 0, 3)

    listing = await (
        await svc.client.get(f"/events/{event['id']}/registrations?status=confirmed", headers=svc.admin)
    ).json()
    holders = {r["full_name"] for r in listing["items"]}
    assert holders == {"Khách 3", "Khách 4", "Khách 5", "Khách 6"}, "the first three in the queue, in order"
    queue = await (
        await svc.client.get(f"/events/{event['id']}/registrations?status=waitlisted", headers=svc.admin)
    ).json()
    assert [(r["full_name"], r["position"]) for r in queue["items"]] == [("Khách 7", 1), ("Khách 8", 2), ("Khách 9", 3)]
    promoted = await heard(svc.heard, "registration.promoted", 3)
    assert sorted(p.registrant.full_name for p in promoted) == ["Khách 4", "Khách 5", "Khách 6"]
    assert all(p.ticket_code and p.qr_url.endswith("/qr.png") for p in promoted)
    assert len(await heard(svc.heard, "registration.cancelled", 3)) == 3

    # A waitlisted person's ticket arrived with the promotion; their new place is checked in the API.
    one = await (await svc.client.get(f"/registrations/{waiting[4]['id']}", headers=svc.admin)).json()
    assert one["status"] == "waitlisted" and one["position"] == 2


async def test_the_signed_link_cancels_and_the_person_may_register_again(svc):
    event = await svc.event(capacity=1)
    first = await (await svc.guest(event["id"], 1, phone="0912 345 678")).json()
    link = first["cancel_url"].split("/api/v1", 1)[1]
    forged = link.rsplit("=", 1)[0] + "=AAAAAAAAAAAAAAAAAAAAAAAA"
    assert (await svc.client.post(forged, headers=svc.anonymous)).status == 403
    shown = await svc.client.get(link, headers=svc.anonymous)
    body = await shown.json()
    assert shown.status == 200 and body["registration"]["status"] == "confirmed"
    assert body["event"]["title"]["vi"] == "Hội thảo chuyển đổi số"
    resp = await svc.client.post(link, headers=svc.anonymous)
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    again = await svc.client.post(link, headers=svc.anonymous)
    problem = await again.json()
    assert again.status == 409 and problem["type"].endswith("/registration-already-cancelled")
    assert problem["detail"].startswith("Đăng ký này đã được huỷ lúc ")
    back = await svc.guest(event["id"], 1, phone="+84912345678")
    assert back.status == 201 and (await back.json())["status"] == "confirmed"
    # Same phone written differently, different email: still the same person.
    clash = await svc.register(event["id"], {"guest": {"full_name": "Ai Đó", "phone": "84-912-345-678"}})
    assert clash.status == 409 and (await clash.json())["field"] == "phone"


async def test_an_idempotency_key_returns_the_first_answer(svc):
    event = await svc.event(capacity=1)
    key = {"Idempotency-Key": "portal-req-0001"}
    body = {"guest": {"full_name": "Lê Văn Tám", "email": "tam@example.vn"}}
    results = await asyncio.gather(*(svc.register(event["id"], body, key) for _ in range(6)))
    answers = [await r.json() for r in results]
    assert len({a["id"] for a in answers}) == 1 and answers[0]["status"] == "confirmed"
    assert sorted(r.status for r in results) == [200] * 5 + [201]
    assert all(r.headers.get("Idempotency-Replayed") == "true" for r in results if r.status == 200)
    counters = await svc.counters(event["id"])
    assert (counters["confirmed"], counters["waiting"]) == (1, 0), "retries took no extra seat"
    # The key still answers the first answer after the seat was given up.
    await svc.client.delete(f"/registrations/{answers[0]['id']}", headers=svc.partner)
    replay = await svc.register(event["id"], body, key)
    assert replay.status == 200 and (await replay.json())["status"] == "confirmed"
    bad = await svc.register(event["id"], body, {"Idempotency-Key": "spaces are not allowed"})
    assert bad.status == 422 and (await bad.json())["errors"][0]["field"] == "Idempotency-Key"


async def test_members_only_events_refuse_guests_and_non_members(svc):
    await svc.org("org-tin", "TINHOC", parent="org-lhh")
    await svc.org("org-tin-cb", "TINHOC-CB", parent="org-tin")
    await svc.org("org-yte", "YTE", parent="org-lhh")
    await svc.member("m-active", orgs=["org-tin-cb"], email="binh@example.vn")
    await svc.member("m-lapsed", status="lapsed")
    await svc.member("m-other", orgs=["org-yte"])
    members_only = await svc.event(audience={"kind": "members"})
    guest = await svc.guest(members_only["id"], 1)
    assert guest.status == 403
    problem = await guest.json()
    assert problem["type"].endswith("/audience-restricted") and problem["reason"] == "guest"
    assert "hội viên" in problem["detail"]
    lapsed = await svc.register(members_only["id"], {"member_id": "m-lapsed"})
    assert lapsed.status == 403 and (await lapsed.json())["reason"] == "membership_not_active"
    unknown = await svc.register(members_only["id"], {"member_id": "nobody"})
    assert unknown.status == 422 and (await unknown.json())["type"].endswith("/unknown-member")
    ok = await svc.register(members_only["id"], {"member_id": "m-active"})
    # Issue 10.3: a partner without members:read never reads a member's contact through events.
    assert ok.status == 201 and (await ok.json())["email"] is None

    for_it = await svc.event(audience={"kind": "organizations", "organization_ids": ["TINHOC"]})
    assert (await svc.register(for_it["id"], {"member_id": "m-active"})).status == 201, "a branch below counts"
    other = await svc.register(for_it["id"], {"member_id": "m-other"})
    assert other.status == 403 and (await other.json())["reason"] == "not_in_listed_organizations"


async def test_only_published_events_inside_their_window_take_registrations(svc):
    draft = await svc.event(publish=False)
    resp = await svc.guest(draft["id"], 1)
    assert resp.status == 409 and (await resp.json())["reason"] == "status"
    later = await svc.event(
        registration_opens_at="2099-01-01T08:00:00+07:00", starts_in=__import__("datetime").timedelta(days=365 * 80)
    )
    resp = await svc.guest(later["id"], 1)
    body = await resp.json()
    assert resp.status == 409 and body["reason"] == "not_yet_open" and "08:00 01/01/2099" in body["detail"]
    bad = await svc.register(draft["id"], {"member_id": "m", "guest": {"full_name": "X", "email": "x@y.vn"}})
    assert bad.status == 422
    bad = await svc.register(draft["id"], {"guest": {"full_name": "X", "phone": "12"}})
    assert bad.status == 422 and (await bad.json())["errors"][0]["field"] == "guest.phone"


async def test_capacity_raised_promotes_and_never_falls_below_confirmed(svc):
    event = await svc.event(capacity=2)
    for i in range(5):
        await svc.guest(event["id"], i)
    resp = await svc.client.put(f"/events/{event['id']}/capacity", json={"capacity": 4}, headers=svc.admin)
    body = await resp.json()
    assert resp.status == 200 and (body["confirmed"], body["waiting"], body["seats_free"]) == (4, 1, 0)
    resp = await svc.client.put(f"/events/{event['id']}/capacity", json={"capacity": 3}, headers=svc.admin)
    assert resp.status == 409
    body = await resp.json()
    assert body["type"].endswith("/capacity-below-confirmed") and body["confirmed"] == 4
    resp = await svc.client.put(f"/events/{event['id']}/capacity", json={"capacity": 0}, headers=svc.admin)
    assert resp.status == 422


async def test_partner_systems_see_only_the_registrations_they_made(svc):
    event = await svc.event(capacity=5)
    mine = await (await svc.guest(event["id"], 1)).json()
    other_site = svc.as_("key:hoi-yte", roles=(), scopes=("registrations:write", "events:read"))
    theirs = await (
        await svc.register(event["id"], {"guest": {"full_name": "Bác sĩ An", "email": "an@yte.vn"}}, other_site)
    ).json()
    listing = await (await svc.client.get(f"/events/{event['id']}/registrations", headers=other_site)).json()
    assert [r["id"] for r in listing["items"]] == [theirs["id"]]
    assert (await svc.client.get(f"/registrations/{mine['id']}", headers=other_site)).status == 404
    assert (await svc.client.delete(f"/registrations/{mine['id']}", headers=other_site)).status == 404
    export = await svc.client.get(f"/events/{event['id']}/registrations/export?format=csv", headers=other_site)
    assert "khach1@example.vn" not in (await export.read()).decode("utf-8-sig")
    everyone = await (await svc.client.get(f"/events/{event['id']}/registrations", headers=svc.admin)).json()
    assert len(everyone["items"]) == 2
