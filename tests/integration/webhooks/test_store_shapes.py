"""Every query shape the webhooks store relies on, on the store in use (see
tests/integration/test_store_shapes.py for the embedded store's quirks)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.webhooks.dispatching import new_delivery
from services.webhooks.store import INDEXES, LOG_KEPT, DeliveryStore, EndpointDoc, EndpointStore, ProjectionStore
from shared.clock import epoch, now_utc
from shared.contracts import MemberErased, new_event
from shared.mongo import ensure_indexes

pytestmark = pytest.mark.integration


def endpoint(endpoint_id: str, key: str = "a1b2c3d4", types=("member.approved",), state="active") -> EndpointDoc:
    now = now_utc()
    return {
        "_id": endpoint_id,
        "key_prefix": key,
        "url": "https://partner.example.vn/h",
        "event_types": list(types),
        "description": None,
        "contact_email": "ops@example.vn",
        "language": "vi",
        "state": state,
        "disabled_reason": None,
        "disabled_at": None,
        "failing_since": 0.0,
        "secret_salt": "s1",
        "previous_secret_salt": None,
        "previous_secret_until": 0.0,
        "created_at": now,
        "created_epoch": now.timestamp(),
        "created_by": "key:" + key,
        "updated_at": now,
    }


@pytest.fixture
async def stores(db):
    await ensure_indexes(db, INDEXES)
    return EndpointStore(db), DeliveryStore(db, lease_seconds=30), ProjectionStore(db)


async def test_endpoints_listening_to_a_type_and_conditional_changes(stores):
    endpoints, _, _ = stores
    await endpoints.add(endpoint("e1", types=("member.approved", "member.updated")))
    await endpoints.add(endpoint("e2", types=("member.updated",)))
    await endpoints.add(endpoint("e3", types=("member.approved",), state="paused"))
    assert [e["_id"] for e in await endpoints.listening("member.approved")] == ["e1"]
    assert sorted(e["_id"] for e in await endpoints.listening("member.updated")) == ["e1", "e2"]
    assert sorted(e["_id"] for e in await endpoints.active()) == ["e1", "e2"]  # what fan-out keeps

    await endpoints.mark_failing("e1", 1000.0)
    await endpoints.mark_failing("e1", 2000.0)  # only the first failure since the last success counts
    assert (await endpoints.get("e1"))["failing_since"] == 1000.0
    await endpoints.mark_healthy("e1")
    assert (await endpoints.get("e1"))["failing_since"] == 0

    announced = new_event(MemberErased(member_id="m"), producer="test")
    won = await endpoints.change_if({"_id": "e1", "state": "active"}, {"state": "disabled"}, announced)
    lost = await endpoints.change_if({"_id": "e1", "state": "active"}, {"state": "disabled"}, announced)
    assert won is not None and won["state"] == "disabled" and "_outbox" not in won and lost is None
    either = await endpoints.change_if({"_id": "e3", "state": {"$in": ["active", "paused"]}}, {"state": "disabled"})
    assert either is not None and isinstance(either["updated_at"], type(now_utc()))  # a $set datetime comes back as one
    assert [e["_id"] for e in await endpoints.page("a1b2c3d4", "disabled", 10, 0)] == ["e1", "e3"]


async def test_keys_are_learnt_once_and_a_revoked_key_is_never_revived(stores):
    endpoints, _, _ = stores
    await endpoints.learn_key("a1b2c3d4", ["webhooks:manage", "members:read"], "org-1")
    await endpoints.learn_key("a1b2c3d4", ["members:read", "webhooks:manage"], "org-1")
    assert (await endpoints.grants(["a1b2c3d4", "ffffffff"]))["a1b2c3d4"]["scopes"] == [
        "members:read",
        "webhooks:manage",
    ]
    await endpoints.revoke_key("a1b2c3d4")
    await endpoints.revoke_key("b0b0b0b0")  # revoked before it was ever seen
    await endpoints.learn_key("a1b2c3d4", ["members:read"], None)
    await endpoints.learn_key("b0b0b0b0", ["members:read"], None)
    assert await endpoints.grants(["a1b2c3d4", "b0b0b0b0"]) == {}
    assert await endpoints.key_revoked("a1b2c3d4") and await endpoints.key_revoked("b0b0b0b0")


async def test_claims_skip_busy_endpoints_and_only_the_lease_holder_settles(stores):
    _, deliveries, _ = stores
    first, second = endpoint("e1"), endpoint("e2")
    for n, ep in enumerate((first, first, second)):
        await deliveries.add([new_delivery(ep, f"evt-{n}", "member.approved", b"{}", member_id=None, trigger="event")])
    assert (
        await deliveries.add([new_delivery(first, "evt-0", "member.approved", b"{}", member_id=None, trigger="event")])
        == 0
    )

    now = epoch() + 1
    due = await deliveries.due(["e1"], 10, now)
    assert [endpoint_id for _, endpoint_id in due] == ["e2"]
    assert await deliveries.due(["e1", "e2"], 10, now) == []
    everything = [delivery_id for delivery_id, _ in await deliveries.due([], 10, now)]
    assert len(everything) == 3
    [claimed] = await deliveries.lease([due[0][0]], now)
    assert claimed["endpoint_id"] == "e2" and claimed["lease_until"] == pytest.approx(now + 30)
    assert await deliveries.lease([due[0][0]], now) == []  # another replica asks for the same one: it gets none
    leased = await deliveries.lease(everything, now)
    assert sorted(d["endpoint_id"] for d in leased) == ["e1", "e1"]
    mine = leased[0]
    stale = {**mine, "lease_owner": "someone-else"}
    assert not await deliveries.settle(stale, {"state": "delivered"})
    assert await deliveries.settle(mine, {"state": "pending", "due": now + 60, "trigger": "retry"}, a_try(1))  # type: ignore[arg-type]
    again = await deliveries.get(mine["_id"])
    assert again["attempts"] == 1 and again["lease_until"] == 0.0 and again["due"] == pytest.approx(now + 60)

    assert await deliveries.again(claimed["_id"], "e2", now) is None  # a try is under way
    redone = await deliveries.again(mine["_id"], "e1", now)
    assert redone["trigger"] == "redelivery" and redone["due"] == pytest.approx(now)


def a_try(number: int, excerpt: str = "x") -> dict:
    return {
        "attempt": number,
        "at": now_utc(),
        "at_epoch": 2000.0 + number,
        "trigger": "event" if number == 1 else "retry",
        "outcome": "failed",
        "status_code": 500,
        "latency_ms": 1.0,
        "response_excerpt": excerpt,
        "error": None,
    }


async def test_tries_are_kept_in_their_delivery_the_oldest_dropped_past_the_limit(stores):
    _, deliveries, _ = stores
    delivery = new_delivery(endpoint("e1"), "evt-1", "member.approved", b"{}", member_id=None, trigger="event")
    await deliveries.add([delivery])
    for number in range(1, LOG_KEPT + 3):
        [held] = await deliveries.lease([delivery["_id"]], epoch())
        assert await deliveries.settle(held, {"trigger": "retry"}, a_try(number))  # type: ignore[arg-type]
    kept = await deliveries.get(delivery["_id"])
    assert kept["attempts"] == LOG_KEPT + 2
    assert sorted(int(n) for n in kept["log"]) == list(range(3, LOG_KEPT + 3))
    newest = kept["log"][str(LOG_KEPT + 2)]
    assert newest["status_code"] == 500 and isinstance(newest["at"], type(now_utc()))  # restored from text


async def test_the_log_pages_newest_first_and_old_entries_are_purged(stores):
    _, deliveries, _ = stores
    ep = endpoint("e1")
    docs = [new_delivery(ep, f"evt-{n}", "member.approved", b"{}", member_id=None, trigger="event") for n in range(3)]
    for n, doc in enumerate(docs):
        doc["created_epoch"] = 1000.0 + n
        doc["state"] = "delivered" if n < 2 else "pending"
    await deliveries.add(docs)
    page = await deliveries.page("e1", None, 2, 0)
    assert [d["created_epoch"] for d in page] == [1002.0, 1001.0]
    assert [d["_id"] for d in await deliveries.page("e1", "pending", 10, 0)] == [docs[2]["_id"]]
    assert await deliveries.purge_before(1001.5) == 2  # the pending one stays, however old
    assert [d["_id"] for d in await deliveries.page("e1", None, 10, 0)] == [docs[2]["_id"]]


async def test_erasure_blanks_bodies_and_stops_unsent_ones(stores):
    _, deliveries, projections = stores
    ep = endpoint("e1")
    sent = new_delivery(ep, "evt-1", "member.approved", b'{"email":"x@y.vn"}', member_id="m-1", trigger="event")
    sent["state"] = "delivered"
    sent["log"] = {"1": a_try(1, excerpt="received x@y.vn")}  # type: ignore[dict-item]
    unsent = new_delivery(ep, "evt-2", "member.updated", b'{"email":"x@y.vn"}', member_id="m-1", trigger="event")
    other = new_delivery(ep, "evt-3", "member.updated", b'{"email":"z@y.vn"}', member_id="m-2", trigger="event")
    await deliveries.add([sent, unsent, other])
    assert await deliveries.erase_member("m-1", "{}") == 2
    assert (await deliveries.get(sent["_id"]))["body"] == "{}" and (await deliveries.get(sent["_id"]))[
        "state"
    ] == "delivered"
    assert (await deliveries.get(sent["_id"]))["log"]["1"]["response_excerpt"] is None
    gone = await deliveries.get(unsent["_id"])
    assert gone["state"] == "cancelled" and "member_id" not in gone
    assert (await deliveries.get(other["_id"]))["body"] == '{"email":"z@y.vn"}'

    t0 = now_utc()
    assert await projections.keep_member("m-1", ["org-a", "org-b"], t0) == "new"
    assert await projections.keep_member("m-1", ["org-b"], t0 + timedelta(seconds=1)) == "updated"
    assert await projections.keep_member("m-1", ["org-c"], t0) == "stale"  # late, older
    assert await projections.member_organizations("m-1") == ["org-b"]
    await projections.forget_member("m-1")
    assert await projections.member_organizations("m-1") == []
    await projections.keep_organization("org-a", None, "active", t0)
    await projections.keep_organization("org-b", "org-a", "active", t0)
    await projections.keep_organization("org-b", "org-a", "dissolved", t0 + timedelta(seconds=1))
    assert await projections.parents() == {"org-a": None, "org-b": "org-a"}
