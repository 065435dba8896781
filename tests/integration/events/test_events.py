"""Events: creation, validation, lifecycle, managers' reach, projections from membership's
events, cancellation that tells every registrant, and reminders that fire once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from services.events import store
from services.events.app import create_app
from services.events.projections import MemberProjection, OrganizationProjection
from services.events.reminders import Reminders
from services.events.seating import SAFETY_NET_SECONDS
from shared.contracts import MemberErased, MemberUpdated, OrganizationCreated, new_event
from shared.mongo import from_store
from shared.scheduler import DueItems, Scheduler
from tests.integration.events.conftest import Listener, Service, heard
from tests.support import eventually
from tests.support.bus import make_bus

pytestmark = pytest.mark.integration


async def test_an_event_is_validated_naming_each_field(svc):
    start = datetime(2027, 3, 8, 8, 0)
    body = {
        "kind": "seminar",
        "title": {"en": "No Vietnamese"},
        "organizer": "LHH",
        "capacity": 0,
        "sessions": [{"starts_at": start.isoformat(), "ends_at": (start - timedelta(hours=1)).isoformat()}],
        "training_hours": 4,
        "secret": 1,
    }
    resp = await svc.client.post("/events", json=body, headers=svc.admin)
    assert resp.status == 422
    fields = {e["field"] for e in (await resp.json())["errors"]}
    assert {"title.vi", "capacity", "sessions.0", "secret"} <= fields

    body = {
        "kind": "seminar",
        "title": {"vi": "Hội thảo"},
        "organizer": "KHONGCO",
        "capacity": 10,
        "venue": "Hà Tĩnh",
        "sessions": [{"starts_at": start.isoformat(), "ends_at": start.replace(hour=11).isoformat()}],
    }
    resp = await svc.client.post("/events", json=body, headers=svc.admin)
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "organizer"

    for extra, message in (({"venue": None}, "venue"), ({"training_hours": 3}, "training")):
        resp = await svc.client.post("/events", json={**body, "organizer": "LHH", **extra}, headers=svc.admin)
        assert resp.status == 422 and message in (await resp.json())["errors"][0]["message"]

    # Times without a zone are what staff in Viet Nam mean; they are stored in UTC.
    resp = await svc.client.post("/events", json={**body, "organizer": "lhh"}, headers=svc.admin)
    created = await resp.json()
    assert resp.status == 201 and created["status"] == "draft" and created["organizer"]["code"] == "LHH"
    assert created["sessions"][0]["starts_at"] == "2027-03-08T01:00:00Z"
    assert created["sessions"][0]["starts_at_local"] == "2027-03-08T08:00:00+07:00"


async def test_the_lifecycle_moves_one_way_and_is_announced(svc):
    event = await svc.event(publish=False, capacity=3)
    assert (await svc.client.post(f"/events/{event['id']}/complete", headers=svc.admin)).status == 409
    published = await (await svc.client.post(f"/events/{event['id']}/publish", headers=svc.admin)).json()
    assert published["status"] == "published" and published["registration_open"]
    [announced] = await heard(svc.heard, "event.published", 1)
    assert announced.event.title_vi == "Hội thảo chuyển đổi số" and announced.capacity == 3
    assert announced.event.organizer_id == "org-lhh"
    assert announced.event.organizer_name == "Liên hiệp các Hội KH&KT tỉnh"

    patch = await svc.client.patch(f"/events/{event['id']}", json={"venue": "Nhà văn hoá tỉnh"}, headers=svc.admin)
    assert patch.status == 200 and (await patch.json())["venue"] == "Nhà văn hoá tỉnh"
    [updated] = await heard(svc.heard, "event.updated", 1)
    assert updated.changed == ["venue"] and updated.event.venue == "Nhà văn hoá tỉnh"

    closed = await (await svc.client.post(f"/events/{event['id']}/close-registration", headers=svc.admin)).json()
    assert closed["status"] == "registration_closed" and not closed["registration_open"]
    assert (await svc.guest(event["id"], 1)).status == 409
    again = await svc.client.post(f"/events/{event['id']}/close-registration", headers=svc.admin)
    assert again.status == 409 and (await again.json())["event_status"] == "registration_closed"


async def test_cancelling_an_event_tells_every_registrant(svc):
    event = await svc.event(capacity=2)
    for i in range(3):
        await svc.guest(event["id"], i)
    resp = await svc.client.post(f"/events/{event['id']}/cancel", json={"reason": "Bão số 5"}, headers=svc.admin)
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    [cancelled] = await heard(svc.heard, "event.cancelled", 1)
    assert cancelled.reason == "Bão số 5"
    assert sorted(r.full_name for r in cancelled.registrants) == ["Khách 0", "Khách 1", "Khách 2"]
    assert all(r.email for r in cancelled.registrants)
    listing = await (await svc.client.get(f"/events/{event['id']}/registrations", headers=svc.admin)).json()
    assert {r["status"] for r in listing["items"]} == {"cancelled"}
    assert (await svc.guest(event["id"], 9)).status == 409
    patch = await svc.client.patch(f"/events/{event['id']}", json={"venue": "X"}, headers=svc.admin)
    assert patch.status == 409


async def test_managers_see_and_change_only_their_subtree(svc):
    await svc.org("org-nn", "NONGNGHIEP", parent="org-lhh")
    await svc.org("org-nn-1", "NN-CHIHOI1", parent="org-nn")
    await svc.org("org-yt", "YTE", parent="org-lhh")
    manager = svc.as_("staff:nn", roles=("manager",), org="org-nn")
    ours = await svc.event(organizer="NN-CHIHOI1")
    theirs = await svc.event(organizer="YTE")

    listing = await (await svc.client.get("/events", headers=manager)).json()
    assert [e["id"] for e in listing["items"]] == [ours["id"]]
    # Outside their reach an event is not found (its existence does not leak); creating one
    # for an organisation outside it is refused by name.
    assert (await svc.client.get(f"/events/{theirs['id']}", headers=manager)).status == 404
    resp = await svc.client.patch(f"/events/{theirs['id']}", json={"venue": "X"}, headers=manager)
    assert resp.status == 404
    assert (await svc.client.patch(f"/events/{ours['id']}", json={"venue": "Y"}, headers=manager)).status == 200
    body = {
        "kind": "seminar",
        "title": {"vi": "X"},
        "organizer": "YTE",
        "capacity": 5,
        "venue": "V",
        "sessions": ours["sessions"][:1] and [{"starts_at": ours["starts_at"], "ends_at": ours["ends_at"]}],
    }
    refused = await svc.client.post("/events", json=body, headers=manager)
    assert refused.status == 403 and (await refused.json())["type"].endswith("/outside-your-organization")

    reader = svc.as_("key:site", roles=(), scopes=("events:read",))
    assert (await svc.client.get("/events", headers=reader)).status == 200
    refused = await svc.register(ours["id"], {"guest": {"full_name": "A", "email": "a@b.vn"}}, reader)
    assert refused.status == 403 and (await refused.json())["required"] == "registrations:write"


async def test_projections_follow_membership_and_erasure_anonymises(svc):
    membership = make_bus(svc.settings, "membership")
    await membership.start()
    try:
        await membership.publish(
            new_event(
                OrganizationCreated(
                    organization_id="org-cntt", code="CNTT", name="Hội Tin học", kind="association", parent_id="org-lhh"
                ),
                producer="membership",
            )
        )
        contact = MemberUpdated(
            member_id="m-bus",
            full_name="Hồ Văn Minh",
            email="minh@example.vn",
            status="active",
            organization_ids=["org-cntt"],
        )
        await membership.publish(new_event(contact, producer="membership"))
        await eventually(lambda: svc.deps.orgs.resolve("cntt"), what="organisation projected")
        await eventually(lambda: svc.deps.members.get("m-bus"), what="member projected")

        event = await svc.event(organizer="CNTT", audience={"kind": "members"})
        reg = await (await svc.register(event["id"], {"member_id": "m-bus"}, svc.admin)).json()
        assert reg["email"] == "minh@example.vn" and reg["full_name"] == "Hồ Văn Minh"

        moved = contact.model_copy(update={"email": "minh.ho@example.vn", "phone": "+84912000111"})
        await membership.publish(new_event(moved, producer="membership"))

        async def current():
            doc = await svc.deps.regs.get(reg["id"])
            return doc if doc.get("email") == "minh.ho@example.vn" else None

        doc = await eventually(current, what="registrant contact kept current")
        assert doc["phone"] == "+84912000111"

        await membership.publish(new_event(MemberErased(member_id="m-bus"), producer="membership"))

        async def erased():
            doc = await svc.deps.regs.get(reg["id"])
            return doc if "email" not in doc else None

        doc = await eventually(erased, what="registration anonymised")
        assert "phone" not in doc and doc["full_name"] != "Hồ Văn Minh"
        assert "minh" not in str(doc["first_answer"]).lower(), "the stored first answer is scrubbed too"
    finally:
        await membership.close()


async def test_reminders_fire_once_per_registration_with_two_schedulers(svc):
    deps = svc.deps
    # An event whose "1 hour before" falls a moment from now.
    event = await svc.event(capacity=5, starts_in=timedelta(hours=1, seconds=1.5))
    for i in range(7):
        await svc.guest(event["id"], i)
    items = deps.events.collection.database[store.REMINDERS]
    reminders = Reminders(deps.events, deps.regs, DueItems(items), deps.links, [1.0])
    assert await reminders.plan(await deps.events.get(event["id"]))

    replicas = [Scheduler(DueItems(items), reminders.job, name=f"r{i}", poll_seconds=0.05) for i in range(2)]
    for replica in replicas:
        replica.start()
    try:
        due = await heard(svc.heard, "event.reminder_due", 5)
    finally:
        for replica in replicas:
            await replica.stop()
    done = [from_store(d) for d in await items.find({"state": "done"}).to_list()]
    per_registration = [d for d in done if d["_id"].startswith("registration:")]
    assert len(per_registration) == 5 and len(done) == 6, "one fan-out and one reminder per confirmed person"
    assert len(due) == 5 and len({d.registrant.registration_id for d in due}) == 5
    assert {d.reminder for d in due} == {"1h"} and all(d.ticket_code for d in due)
    await asyncio.gather(*(r.run_due() for r in replicas))
    assert len(svc.heard.of("event.reminder_due")) == 5, "nothing fires twice"


async def test_the_services_own_scheduler_sends_a_reminder_when_due_not_at_its_next_look(aiohttp_client, settings):
    """The reminders scheduler does not poll (its look is a 30 s safety net): publishing
    wakes it, and it sleeps exactly until the next reminder falls due."""
    settings = settings.model_copy(update={"events_reminder_hours": "1"})
    listener = Listener(settings, ["event.reminder_due"])
    await listener.bus.start()
    try:
        svc = Service(await aiohttp_client(create_app(settings)), settings)
        await svc.org("org-lhh", "LHH")
        started = time.monotonic()
        event = await svc.event(capacity=5, starts_in=timedelta(hours=1, seconds=3))  # due in 3 s
        for i in range(2):
            await svc.guest(event["id"], i)
        due = await heard(listener, "event.reminder_due", 2)
        assert time.monotonic() - started < SAFETY_NET_SECONDS / 2
        assert {d.reminder for d in due} == {"1h"}
    finally:
        await listener.bus.close()


async def test_moving_an_event_reschedules_its_reminders(svc):
    event = await svc.event(starts_in=timedelta(days=3))
    items = svc.deps.events.collection.database[store.REMINDERS]
    pending = await items.find({"state": "pending"}).to_list()
    assert {p["_id"].split(":")[2] for p in pending} == {"24h", "2h"}
    later = datetime.now(UTC) + timedelta(days=5)
    resp = await svc.client.patch(
        f"/events/{event['id']}",
        headers=svc.admin,
        json={"sessions": [{"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()}]},
    )
    assert resp.status == 200
    states = {d["_id"]: d["state"] for d in await items.find({}).to_list()}
    assert sorted(states.values()) == ["cancelled", "cancelled", "pending", "pending"]


async def test_projections_update_their_own_document_and_keep_the_newest(db):
    """nx-27017 ignores conditions beside a top-level `$or` in writes: the projections'
    newest-wins upserts used to overwrite whichever member or organisation matched the
    `$or` (another one). Wrapped in `$and`, each write touches its own document, and a
    late, older copy changes nothing."""
    members, orgs = MemberProjection(db), OrganizationProjection(db)
    at = datetime.now(UTC)
    for member_id, name in (("m-a", "An"), ("m-b", "Bình")):
        assert await members.apply(MemberUpdated(member_id=member_id, full_name=name, status="active"), at) == "new"
    renamed_member = MemberUpdated(member_id="m-b", full_name="Bình 2", status="active")
    assert await members.apply(renamed_member, at + timedelta(1)) == "updated"
    assert await members.apply(MemberUpdated(member_id="m-b", full_name="old", status="active"), at) == "stale"
    assert (await members.get("m-a"))["full_name"] == "An"
    assert (await members.get("m-b"))["full_name"] == "Bình 2"

    for org_id, code in (("o-a", "A"), ("o-b", "B")):
        await orgs.apply(OrganizationCreated(organization_id=org_id, code=code, name=code, kind="association"), at)
    renamed = OrganizationCreated(organization_id="o-b", code="B", name="B mới", kind="association")
    assert await orgs.apply(renamed, at + timedelta(1)) == "updated"
    assert await orgs.apply(renamed.model_copy(update={"name": "cũ"}), at) == "stale"
    assert (await orgs.resolve("o-a"))["name"] == "A" and (await orgs.resolve("b"))["name"] == "B mới"


async def test_an_older_change_of_a_member_handled_after_a_newer_one_leaves_registrations_as_the_newer(db):
    """A consumer holds several messages: two changes of one member can both pass the
    projection (written together) and then update the registrations in either order."""
    from services.events.store import Registrations

    regs = Registrations(db)
    await db.registrations.insert_many(
        [
            {"_id": "r-old", "member_id": "m-1", "email": "an@old.vn"},  # kept before registrations had a time
            {"_id": "r-gone", "member_id": "m-1", "erased": 1, "full_name": "(đã xoá)"},
        ]
    )
    newer = {"$set": {"email": "an@new.vn", "full_name": "Lê An"}}
    older = {"$set": {"email": "an@older.vn", "full_name": "Lê Văn An"}}
    await regs.follow_member("m-1", newer, 200.0)
    await regs.follow_member("m-1", older, 100.0)
    kept = await db.registrations.find_one({"_id": "r-old"})
    assert (kept["email"], kept["full_name"]) == ("an@new.vn", "Lê An")
    assert "email" not in await db.registrations.find_one({"_id": "r-gone"})
    await regs.follow_member("m-1", {"$set": {"email": "an@newest.vn"}}, 300.0)
    assert (await db.registrations.find_one({"_id": "r-old"}))["email"] == "an@newest.vn"
