"""The trust boundary in events (issue 10): a key bound to an association reaches only
its subtree, a member's contact never leaks through a registration, bad input gets a
4xx, erasure leaves no copy, and problems speak the reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.contracts import MemberErased, MemberUpdated, new_event
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration
SCOPES = ("events:read", "events:write", "registrations:write")


async def _tree(svc) -> None:
    await svc.org("org-nn", "NONGNGHIEP", parent="org-lhh")
    await svc.org("org-nn-1", "NN-CHIHOI1", parent="org-nn")
    await svc.org("org-yt", "YTE", parent="org-lhh")


async def test_a_key_bound_to_an_association_reaches_only_its_subtree(svc):
    """10.1: create, change, cancel, re-capacity, list, register, check in and export — its subtree only."""
    await _tree(svc)
    key = svc.as_("key:nn", roles=(), scopes=SCOPES, org="org-nn")
    ours = await svc.event(organizer="NN-CHIHOI1", capacity=3, starts_in=timedelta(minutes=30))
    theirs = await svc.event(organizer="YTE", capacity=3, starts_in=timedelta(minutes=30))
    their_ticket = (
        await (await svc.register(theirs["id"], {"guest": {"full_name": "Y", "email": "y@yte.vn"}})).json()
    )["ticket_code"]

    listing = await (await svc.client.get("/events", headers=key)).json()
    assert [e["id"] for e in listing["items"]] == [ours["id"]]
    by_code = await (await svc.client.get("/events?organizer=YTE", headers=key)).json()
    assert by_code["items"] == []

    other = f"/events/{theirs['id']}"
    for method, path, body in (
        ("GET", other, None),
        ("PATCH", other, {"venue": "X"}),
        ("POST", f"{other}/cancel", {"reason": "x"}),
        ("POST", f"{other}/close-registration", None),
        ("PUT", f"{other}/capacity", {"capacity": 50}),
        ("GET", f"{other}/registrations", None),
        ("GET", f"{other}/attendance", None),
        ("GET", f"{other}/registrations/export?format=csv", None),
        ("GET", f"{other}/attendance/export?format=csv", None),
        ("POST", f"{other}/registrations", {"guest": {"full_name": "Z", "email": "z@nn.vn"}}),
        ("POST", "/checkins", {"ticket_code": their_ticket}),
    ):
        resp = await svc.client.request(method, path, json=body, headers=key)
        assert resp.status == 404, f"{method} {path}: {resp.status} {await resp.text()}"
    still = await (await svc.client.get(other, headers=svc.admin)).json()
    assert (still["status"], still["capacity"], still["venue"]) == ("published", 3, theirs["venue"])

    created = await svc.client.post("/events", headers=key, json=_body(ours, organizer="YTE"))
    assert created.status == 403 and (await created.json())["type"].endswith("/outside-your-organization")
    mine = await svc.client.post("/events", headers=key, json=_body(ours, organizer="NN-CHIHOI1"))
    assert mine.status == 201
    assert (await svc.client.put(f"/events/{ours['id']}/capacity", json={"capacity": 5}, headers=key)).status == 200
    reg = await svc.register(ours["id"], {"guest": {"full_name": "N", "email": "n@nn.vn"}}, key)
    assert reg.status == 201
    checked = await svc.client.post("/checkins", json={"ticket_code": (await reg.json())["ticket_code"]}, headers=key)
    assert checked.status == 200


def _body(event, organizer: str) -> dict:
    return {
        "kind": "seminar",
        "title": {"vi": "Mới"},
        "organizer": organizer,
        "capacity": 5,
        "venue": "V",
        "sessions": [{"starts_at": event["starts_at"], "ends_at": event["ends_at"]}],
    }


async def test_a_member_is_registered_by_id_only_within_reach_and_their_contact_never_leaks(svc):
    """10.3: registering a member by id does not read their email and phone."""
    await _tree(svc)
    await svc.member("m-nn", orgs=["org-nn-1"], email="nn@example.vn")
    await svc.member("m-yt", orgs=["org-yt"], email="yt@example.vn")
    event = await svc.event(organizer="LHH")
    bound = svc.as_("key:nn", roles=(), scopes=SCOPES, org="org-nn")
    event_nn = await svc.event(organizer="NONGNGHIEP")
    outside = await svc.register(event_nn["id"], {"member_id": "m-yt"}, bound)
    assert outside.status == 422 and (await outside.json())["type"].endswith("/unknown-member")
    assert "yt@example.vn" not in await outside.text()
    inside = await svc.register(event_nn["id"], {"member_id": "m-nn"}, bound)
    assert inside.status == 201
    answer = await inside.json()
    assert answer["full_name"] and answer["email"] is None and answer["phone"] is None
    # Nor through reading it back, nor through the listing, nor through a replayed answer.
    for path in (f"/registrations/{answer['id']}", f"/events/{event_nn['id']}/registrations"):
        assert "nn@example.vn" not in await (await svc.client.get(path, headers=bound)).text()
    unbound = await svc.register(event["id"], {"member_id": "m-yt"}, {**svc.partner, "Idempotency-Key": "k1"})
    again = await svc.register(event["id"], {"member_id": "m-yt"}, {**svc.partner, "Idempotency-Key": "k1"})
    assert unbound.status == 201 and again.status == 200
    assert "yt@example.vn" not in await unbound.text() + await again.text()
    # Staff who reach the member read it, as they can through membership.
    staff = await (await svc.client.get(f"/registrations/{answer['id']}", headers=svc.admin)).json()
    assert staff["email"] == "nn@example.vn"


async def test_partners_answers_show_no_staff_usernames(svc):
    """10.6: no `created_by` (a staff username) and no `checked_in_by` in partners' answers."""
    event = await svc.event(starts_in=timedelta(minutes=30))
    shown = await (await svc.client.get(f"/events/{event['id']}", headers=svc.partner)).text()
    assert "staff:lan" not in shown and "created_by" not in shown
    ticket = (await (await svc.guest(event["id"], 1)).json())["ticket_code"]
    checked = await svc.client.post("/checkins", json={"ticket_code": ticket}, headers=svc.admin)
    assert "staff:lan" not in await checked.text()
    listing = await svc.client.get(f"/events/{event['id']}/attendance", headers=svc.partner)
    assert "staff:lan" not in await listing.text()


async def test_bad_input_gets_a_4xx_problem(svc):
    """10.7: a title with a line break, an offset above 2^63, a malformed multipart part."""
    event = await svc.event(title={"vi": "Hội thảo\nBEGIN:VEVENT", "en": "A\r\nB"})
    ics = await svc.client.get(f"/events/{event['id']}/calendar.ics", headers=svc.anonymous)
    assert ics.status == 200 and "SUMMARY:Hội thảo BEGIN:VEVENT" in await ics.text()
    huge = await svc.client.get(f"/events/{event['id']}/registrations?offset={2**64}", headers=svc.admin)
    assert huge.status == 422 and (await huge.json())["errors"][0]["field"] == "offset"
    multipart = await svc.client.post(
        f"/events/{event['id']}/registrations",
        data=b"--x\r\nContent-Disposition: form-data; name\r\n\r\n\xff\r\n--x--",
        headers={**svc.partner, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= multipart.status < 500
    assert multipart.headers["Content-Type"].startswith("application/problem+json")


async def test_after_erasure_events_holds_none_of_the_erased_contact(svc):
    """10.11: every collection of the events service, holder keys included."""
    membership = make_bus(svc.settings, "membership")
    await membership.start()
    try:
        contact = MemberUpdated(
            member_id="m-erase",
            full_name="Đỗ Thị Xoá",
            email="xoa@example.vn",
            phone="+84912000999",
            status="active",
            organization_ids=["org-lhh"],
        )
        await membership.publish(new_event(contact, producer="membership"))
        await eventually(lambda: svc.deps.members.get("m-erase"), what="member projected")
        event = await svc.event(capacity=1)
        await svc.register(event["id"], {"member_id": "m-erase"}, svc.admin)
        other = await svc.event(capacity=1)
        # The same person once came as a guest, with the same contact.
        await svc.register(
            other["id"], {"guest": {"full_name": "Xoá", "email": "xoa@example.vn", "phone": "0912000999"}}
        )
        await svc.guest(event["id"], 7)  # someone else, waitlisted
        await membership.publish(new_event(MemberErased(member_id="m-erase"), producer="membership"))

        async def scrubbed():
            return not await _stored_anywhere(svc, ("xoa@example.vn", "912000999", "Đỗ Thị Xoá"))

        await eventually(scrubbed, what="no copy of the erased contact")
        assert await _stored_anywhere(svc, ("khach7@example.vn",)), "other people's registrations stay"
    finally:
        await membership.close()


async def _stored_anywhere(svc, values) -> list[str]:
    db = svc.deps.events.collection.database
    found = []
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            text = str(doc)
            found += [f"{name}:{v}" for v in values if v in text]
    return found


async def test_problems_follow_accept_language(svc):
    """10.12: titles and details in Vietnamese by default, English on request."""
    event = await svc.event(capacity=1)
    missing_vi = await (await svc.client.get("/events/nope", headers=svc.admin)).json()
    missing_en = await (await svc.client.get("/events/nope", headers={**svc.admin, "Accept-Language": "en"})).json()
    assert (missing_vi["title"], missing_vi["detail"]) == ("Không tìm thấy", "Không có sự kiện này")
    assert (missing_en["title"], missing_en["detail"]) == ("Not found", "No event with this id")
    closed = await svc.client.post(f"/events/{event['id']}/publish", headers={**svc.admin, "Accept-Language": "en"})
    problem = await closed.json()
    assert closed.status == 409 and problem["title"] == "The event cannot move to that state"
    assert problem["detail"] == "An event that is published cannot publish"
    await svc.guest(event["id"], 1)
    dup = await svc.guest(event["id"], 1)
    dup_en = await svc.register(
        event["id"], {"guest": {"full_name": "Khách 1", "email": "khach1@example.vn"}}, {"Accept-Language": "en"}
    )
    assert (await dup.json())["title"] == "Đã đăng ký rồi" and (await dup_en.json())["title"] == "Already registered"
