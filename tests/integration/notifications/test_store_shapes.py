"""The query shapes the notifications store relies on, against the store in use
(see tests/integration/test_store_shapes.py for the embedded store's quirks)."""

from __future__ import annotations

import asyncio

import pytest

from services.notifications.store import INDEXES, DeliveryStore
from shared.clock import epoch
from shared.mongo import ensure_indexes

pytestmark = pytest.mark.integration


async def test_update_many_counts_only_what_it_changed(db):
    await db.d.insert_many([{"_id": "a", "status": "queued"}, {"_id": "b", "status": "queued"}])
    await db.d.update_one({"_id": "a"}, {"$set": {"status": "sending"}})
    result = await db.d.update_many({"_id": {"$in": ["a", "b"]}, "status": "queued"}, {"$set": {"status": "x"}})
    assert result.modified_count == 1


async def test_racing_dispatchers_claim_disjoint_batches(db):
    await ensure_indexes(db, INDEXES)
    store = DeliveryStore(db)
    await store.plan([{"_id": f"k{i}", "channel": "email", "to": "a@b.vn"} for i in range(120)])
    claimed: list[str] = []
    while True:
        batches = await asyncio.gather(*(store.claim_due(25, channel="email") for _ in range(3)))
        if not any(batches):
            break
        claimed.extend(d["_id"] for batch in batches for d in batch)
    assert sorted(claimed) == sorted(f"k{i}" for i in range(120))  # each once, none lost
    assert {d["attempts"] async for d in db.deliveries.find({})} == {1}


async def test_an_index_on_an_array_answers_in_but_not_equality(db):
    """Why expertise segments query with $in."""
    await ensure_indexes(db, INDEXES)
    await db.contacts.insert_one({"_id": "m", "expertise": ["tri tue nhan tao"]})
    assert await db.contacts.find_one({"expertise": {"$in": ["tri tue nhan tao"]}}) is not None


async def test_an_upserting_update_keeps_the_filter_id(db):
    """Why templates and erasures use update_one(..., upsert=True), not replace_one."""
    await db.t.update_one({"_id": "welcome:email:vi"}, {"$set": {"version": 1}}, upsert=True)
    assert (await db.t.find_one({}))["_id"] == "welcome:email:vi"


async def test_numbers_compare_for_due_times(db):
    await db.q.insert_many([{"_id": 1, "due": epoch() - 5}, {"_id": 2, "due": epoch() + 60}])
    assert [d["_id"] async for d in db.q.find({"due": {"$lte": epoch()}})] == [1]


async def test_a_contact_upsert_touches_only_its_own_member(db):
    """The contact projection's conditional upsert keeps its `$or` inside `$and`: beside
    other conditions the embedded store would ignore them, `_id` included, and write
    one member's contact data over another's."""
    from datetime import UTC, datetime, timedelta

    from services.notifications.projections import ContactStore
    from shared.contracts import MemberApproved
    from tests.fakes.notification_events import member

    store = ContactStore(db)
    # A contact kept before versions were recorded: no `as_of`, so it matches the `$or`.
    await db.contacts.insert_one({"_id": "m-legacy", "full_name": "Lê Văn Cũ"})
    first, second = member(full_name="Nguyễn Văn An"), member(full_name="Trần Thị Bình")
    t0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    await store.upsert(MemberApproved(**first), t0)
    await store.upsert(MemberApproved(**second), t0 + timedelta(seconds=1))
    docs = {d["_id"]: d async for d in db.contacts.find({})}
    assert set(docs) == {first["member_id"], second["member_id"], "m-legacy"}
    assert docs[first["member_id"]]["full_name"] == "Nguyễn Văn An"
    assert docs[second["member_id"]]["full_name"] == "Trần Thị Bình"
    # An older event arriving late changes nothing; an erased contact stays erased.
    await store.upsert(MemberApproved(**{**first, "full_name": "Old"}), t0 - timedelta(hours=1))
    assert (await store.get(first["member_id"]))["full_name"] == "Nguyễn Văn An"
    assert (await store.get("m-legacy"))["full_name"] == "Lê Văn Cũ"
    await store.erase(second["member_id"])
    await store.upsert(MemberApproved(**second), t0 + timedelta(days=1))
    assert "full_name" not in await store.get(second["member_id"])
    assert (await store.get(first["member_id"]))["full_name"] == "Nguyễn Văn An"


async def test_the_next_due_delivery_is_read_by_one_sorted_query(db):
    """What an idle dispatcher reads at its safety-net look: when the earliest queued
    delivery falls due (sent ones and those being sent do not count)."""
    await ensure_indexes(db, INDEXES)
    store = DeliveryStore(db)
    assert await store.next_due() is None
    now = epoch()
    await db.deliveries.insert_many(
        [
            {"_id": "a", "status": "queued", "channel": "sms", "due": now + 600},
            {"_id": "b", "status": "queued", "channel": "email", "due": now + 30},
            {"_id": "c", "status": "sent", "channel": "email", "due": now - 60},
            {"_id": "d", "status": "sending", "channel": "email", "due": now - 30},
        ]
    )
    assert await store.next_due() == now + 30


async def test_preferences_live_on_the_contact_and_survive_its_projection_but_not_erasure(db):
    """Preferences are a `preferences` field of the person's contacts document, written
    with dotted paths (a bare document for a guest or before the member's first event);
    the newest-wins contact write keeps them; erasure removes them; and an event after
    the erasure writes nothing back."""
    from datetime import UTC, datetime, timedelta

    from services.notifications.projections import ContactStore
    from shared.contracts import MemberApproved
    from tests.fakes.notification_events import member

    store = ContactStore(db)
    m = member()
    await store.set_preferences(m["member_id"], {"service": {"sms": False}, "zalo": False})
    await store.set_preferences(m["member_id"], {"announcement": {"email": False}})
    t0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert await store.upsert(MemberApproved(**m), t0) == "updated"  # the bare document was there
    contact = await store.get(m["member_id"])
    assert contact["full_name"] == m["full_name"]
    assert await store.get_preferences(m["member_id"]) == {
        "service": {"sms": False},
        "announcement": {"email": False},
        "zalo": False,
    }
    assert (await store.segment({})) == [m["member_id"]]  # the bare guest documents below are no segment's
    await store.set_preferences("guest-abc", {"announcement": {"sms": False}})
    assert (await store.segment({})) == [m["member_id"]]

    await store.erase(m["member_id"])
    assert await store.get_preferences(m["member_id"]) is None
    assert await store.upsert(MemberApproved(**m), t0 + timedelta(days=1)) == "stale"
    assert "full_name" not in await store.get(m["member_id"])


async def test_what_an_earlier_version_kept_is_brought_up_to_date_at_start(db):
    """Preferences kept in their own collection move onto the contact, and a contact
    erased before erasures claimed the end of time still takes no later event."""
    from datetime import UTC, datetime

    from services.notifications.projections import ContactStore
    from shared.contracts import MemberApproved
    from tests.fakes.notification_events import member

    m = member()
    await db.preferences.insert_one({"_id": "m-kept", "service": {"email": True, "sms": False}, "zalo": False})
    await db.contacts.insert_one({"_id": m["member_id"], "erased": "yes", "as_of": datetime(2026, 1, 1, tzinfo=UTC)})
    store = ContactStore(db)
    await store.prepare()
    await store.prepare()  # twice: nothing more
    assert await store.get_preferences("m-kept") == {"service": {"email": True, "sms": False}, "zalo": False}
    assert await db.preferences.count_documents({}) == 0
    assert await store.upsert(MemberApproved(**m), datetime(2026, 11, 27, tzinfo=UTC)) == "stale"
    assert "full_name" not in await store.get(m["member_id"])


async def test_an_erased_members_registrations_take_no_later_event(db):
    from datetime import UTC, datetime, timedelta

    from services.notifications.projections import DirectoryStore

    store = DirectoryStore(db)
    t0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    fields = {"event_id": "ev", "member_id": "m-1", "full_name": "An", "email": "an@x.vn", "status": "active"}
    await store.upsert_registration("r-1", fields, t0)
    await store.erase_member("m-1")
    await store.upsert_registration("r-1", {**fields, "status": "cancelled"}, t0 + timedelta(hours=1))
    kept = await db.registrations.find_one({"_id": "r-1"})
    assert "full_name" not in kept and "email" not in kept


async def test_plans_of_one_turn_go_as_one_insert_and_a_key_is_new_to_one_of_them(db):
    """Concurrent plans (a consumer's events) are inserted together; two copies of one
    event planned at once: each key is new to exactly one of them."""
    store = DeliveryStore(db)
    await store.plan([{"_id": "old", "channel": "email"}])

    def docs(*keys):
        return [{"_id": k, "channel": "email"} for k in keys]

    first, second, third = await asyncio.gather(
        store.plan(docs("a", "b")), store.plan(docs("a", "b")), store.plan(docs("c", "old"))
    )
    assert sorted(first + second) == ["a", "b"] and third == ["c"]
    assert await db.deliveries.count_documents({}) == 4


async def test_concurrent_reads_of_people_each_get_their_own(db):
    """The planner's reads of one turn go as one query; each caller gets only the people
    it asked for."""
    from services.notifications.projections import ContactStore

    await db.contacts.insert_many([{"_id": "m-1", "full_name": "An"}, {"_id": "m-2", "full_name": "Bình"}])
    store = ContactStore(db)
    first, second, none = await asyncio.gather(
        store.people(["m-1", "guest-x"]), store.people(["m-2", "m-1"]), store.people([])
    )
    assert set(first) == {"m-1"} and set(second) == {"m-1", "m-2"} and none == {}
    assert second["m-2"]["full_name"] == "Bình"


async def test_an_erasure_that_failed_part_way_still_forgets_every_address_when_retried(db, monkeypatch):
    """The bus retries an erasure that failed: by then the contact and the log may have lost
    the addresses, and the records keyed by them (suppressions, SMS quotas) must still go."""
    import json
    from datetime import UTC, datetime

    from services.notifications.projecting import Projecting
    from services.notifications.projections import ContactStore, DirectoryStore
    from services.notifications.store import SuppressionStore
    from shared.contracts import MemberApproved

    await ensure_indexes(db, INDEXES)
    contacts, deliveries, suppressions = ContactStore(db), DeliveryStore(db), SuppressionStore(db)
    projecting = Projecting(contacts, DirectoryStore(db), deliveries, suppressions)
    m = {"member_id": "m-9", "full_name": "Đỗ Thu Hằng", "email": "hang@example.vn", "phone": "+84912000999"}
    await projecting.contact(MemberApproved(**m, status="active"), datetime(2026, 12, 1, tzinfo=UTC), None)
    await suppressions.add(m["email"], "email", "550 no such user")
    await deliveries.take_quotas([(m["phone"], "campaign:c1:x:sms:announcement")], per_day=3)

    failing = deliveries.quotas.forget

    async def store_went_away(phones):
        raise ConnectionError("store went away")

    monkeypatch.setattr(deliveries.quotas, "forget", store_went_away)
    with pytest.raises(ConnectionError):
        await projecting.erase(m["member_id"])
    monkeypatch.setattr(deliveries.quotas, "forget", failing)
    await projecting.erase(m["member_id"])  # the bus's retry

    left = []
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            text = json.dumps(doc, default=str, ensure_ascii=False)
            if m["email"] in text or m["phone"] in text or m["phone"][3:] in text:
                left.append(name)
    assert left == []
