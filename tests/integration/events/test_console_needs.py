"""What the staff console asks of events (issue 12): a member's registrations on their
page, and the events of a day or a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from services.events.api import DESK
from shared.text import word_prefixes

pytestmark = pytest.mark.integration


async def test_a_members_registrations_within_the_callers_reach(svc):
    await svc.org("org-nn", "NONGNGHIEP", parent="org-lhh")
    await svc.org("org-yt", "YTE", parent="org-lhh")
    await svc.member("m-1", orgs=["org-nn", "org-yt"], email="mot@example.vn")
    ours = await svc.event(organizer="NONGNGHIEP", starts_in=timedelta(days=3))
    theirs = await svc.event(organizer="YTE", starts_in=timedelta(days=4))
    first = await (await svc.register(ours["id"], {"member_id": "m-1"}, svc.admin)).json()
    second = await (await svc.register(theirs["id"], {"member_id": "m-1"}, svc.admin)).json()
    await svc.client.delete(f"/registrations/{first['id']}", headers=svc.admin)

    everything = await (await svc.client.get("/events/members/m-1/registrations", headers=svc.admin)).json()
    assert [r["id"] for r in everything["items"]] == [second["id"], first["id"]], "newest first"
    assert everything["items"][0]["email"] == "mot@example.vn"
    cancelled = await svc.client.get("/events/members/m-1/registrations?status=cancelled", headers=svc.admin)
    assert [r["id"] for r in (await cancelled.json())["items"]] == [first["id"]]

    manager = svc.as_("staff:nn", roles=("manager",), org="org-nn")
    theirs_only = await (await svc.client.get("/events/members/m-1/registrations", headers=manager)).json()
    assert [r["id"] for r in theirs_only["items"]] == [first["id"]]
    # A partner sees the registrations it made, and nothing of the member's contact.
    mine = await svc.register(ours["id"], {"member_id": "m-1"})
    partner_view = await (await svc.client.get("/events/members/m-1/registrations", headers=svc.partner)).json()
    assert [r["id"] for r in partner_view["items"]] == [(await mine.json())["id"]]
    assert partner_view["items"][0]["email"] is None
    paged = await svc.client.get("/events/members/m-1/registrations?limit=1&offset=1", headers=svc.admin)
    assert [r["id"] for r in (await paged.json())["items"]] == [second["id"]]


async def test_events_of_a_day_or_a_week(svc):
    soon = await svc.event(starts_in=timedelta(days=1))
    later = await svc.event(starts_in=timedelta(days=10))
    now = datetime.now(UTC)

    async def ids(query: str) -> list[str]:
        resp = await svc.client.get(f"/events?{query}", headers=svc.admin)
        assert resp.status == 200, await resp.text()
        return [e["id"] for e in (await resp.json())["items"]]

    week = f"starts_from={quote(now.isoformat())}&starts_before={quote((now + timedelta(days=7)).isoformat())}"
    assert await ids(week) == [soon["id"]]
    assert await ids(f"starts_from={quote((now + timedelta(days=2)).isoformat())}") == [later["id"]]
    assert await ids("starts_before=2000-01-01T00:00:00") == []
    bad = await svc.client.get("/events?starts_from=tomorrow", headers=svc.admin)
    assert bad.status == 422


async def test_events_found_by_words_of_their_title(svc):
    """Issue 14: folded word prefixes of the title, through an index."""
    digital = await svc.event(title={"vi": "Hội thảo Chuyển đổi số"})
    await svc.event(title={"vi": "Tập huấn an toàn lao động"})

    async def found(q: str) -> list[str]:
        resp = await svc.client.get(f"/events?q={quote(q)}", headers=svc.admin)
        return [e["id"] for e in (await resp.json())["items"]]

    assert await found("chuyen doi") == [digital["id"]]
    assert await found("HỘI chuy") == [digital["id"]]
    assert await found("doi so hoi") == [digital["id"]], "words in any order"
    assert await found("chuyenx") == []


async def test_events_stored_before_title_search_are_indexed_at_start(svc):
    event = await svc.event(title={"vi": "Hội nghị Khoa học"})
    await svc.deps.events.collection.update_one({"_id": event["id"]}, {"$unset": {"title_words": ""}})
    assert await svc.app[DESK].index_titles() == 1
    found = await (await svc.client.get("/events?q=khoa", headers=svc.admin)).json()
    assert [e["id"] for e in found["items"]] == [event["id"]]


async def test_title_search_follows_renames_and_moves_and_keeps_to_reach(svc):
    """Title search through its index (issue 14): found under the title and date as they are
    now, in listing order, a page at a time, within the caller's reach, drafts for staff only."""
    await svc.org("org-nn", "NONGNGHIEP", parent="org-lhh")
    await svc.org("org-yt", "YTE", parent="org-lhh")
    farm = await svc.event(
        title={"vi": "Hội thảo nông nghiệp sạch"}, organizer="NONGNGHIEP", starts_in=timedelta(days=5)
    )
    health = await svc.event(title={"vi": "Hội thảo y tế cơ sở"}, organizer="YTE", starts_in=timedelta(days=3))
    draft = await svc.event(title={"vi": "Hội thảo bản nháp"}, publish=False, starts_in=timedelta(days=7))

    async def found(q: str, headers=None, **params) -> list[str]:
        resp = await svc.client.get("/events", params={"q": q, **params}, headers=headers or svc.admin)
        assert resp.status == 200, await resp.text()
        return [e["id"] for e in (await resp.json())["items"]]

    assert await found("hoi thao") == [health["id"], farm["id"], draft["id"]]
    assert await found("hoi thao", svc.as_("staff:nn", roles=("manager",), org="org-nn")) == [farm["id"]]
    assert await found("hoi thao", svc.partner) == [health["id"], farm["id"]], "drafts are staff's"
    assert await found("hoi", limit=1, offset=1) == [farm["id"]]

    renamed = await svc.client.patch(
        f"/events/{farm['id']}", json={"title": {"vi": "Tập huấn nông nghiệp"}}, headers=svc.admin
    )
    assert renamed.status == 200, await renamed.text()
    assert await found("hoi thao") == [health["id"], draft["id"]]
    assert await found("tap huan nong") == [farm["id"]]

    later = datetime.now(UTC) + timedelta(days=10)
    sessions = [{"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=2)).isoformat()}]
    moved = await svc.client.patch(f"/events/{health['id']}", json={"sessions": sessions}, headers=svc.admin)
    assert moved.status == 200, await moved.text()
    assert await found("hoi thao") == [draft["id"], health["id"]]
    assert await found("zzz") == []


def retitling(doc, title: str) -> dict:
    """The update a change of title makes (the title and its folded words)."""
    return {"$set": {"title": {**doc["title"], "vi": title}, "title_words": word_prefixes(title)}}


async def titled(svc, q: str) -> list[str]:
    resp = await svc.client.get("/events", params={"q": q}, headers=svc.admin)
    assert resp.status == 200, await resp.text()
    return [e["id"] for e in (await resp.json())["items"]]


async def test_a_double_submitted_retitle_leaves_the_event_found_under_the_new_title(svc):
    event = await svc.event(title={"vi": "Hội nghị Tên Cũ"}, publish=False)
    events = svc.deps.events
    read = await events.get(event["id"])  # both submissions read the draft
    assert await events.change(event["id"], "draft", retitling(read, "Hội nghị Tên Mới"), before=read) is not None
    published = await svc.client.post(f"/events/{event['id']}/publish", headers=svc.admin)
    assert published.status == 200, await published.text()
    # The second submission finds the draft published meanwhile: refused.
    assert await events.change(event["id"], "draft", retitling(read, "Hội nghị Tên Mới"), before=read) is None
    assert await titled(svc, "hoi nghi ten moi") == [event["id"]]
    assert await titled(svc, "cu") == []


async def test_crossing_retitles_leave_the_event_found_under_the_title_it_has(svc, monkeypatch):
    event = await svc.event(title={"vi": "Hội nghị Mùa Xuân"})
    events = svc.deps.events
    drop = events.terms.drop

    async def late_drop(ids) -> None:
        # The first change (Xuân → Thu) is written; before it drops the old title's terms, a
        # second one (Thu → Xuân, read after it) is made in full.
        monkeypatch.setattr(events.terms, "drop", drop)
        back = await events.get(event["id"])
        assert await events.change(event["id"], "published", retitling(back, "Hội nghị Mùa Xuân"), before=back)
        await drop(ids)

    monkeypatch.setattr(events.terms, "drop", late_drop)
    first = await events.get(event["id"])
    assert await events.change(event["id"], "published", retitling(first, "Hội nghị Mùa Thu"), before=first)
    assert events.terms.drop == drop, "the second change ran"
    assert await titled(svc, "hoi nghi mua xuan") == [event["id"]]
    assert await titled(svc, "thu") == []


async def test_events_stored_before_title_terms_are_found_after_a_start(svc):
    event = await svc.event(title={"vi": "Hội nghị Tổng kết"})
    await svc.deps.events.terms.forget(event["id"])  # as stored before title terms existed
    await svc.deps.events.collection.update_one({"_id": event["id"]}, {"$unset": {"title_terms": ""}})
    assert (await (await svc.client.get("/events?q=tong", headers=svc.admin)).json())["items"] == []
    assert await svc.app[DESK].index_titles() == 1
    found = await (await svc.client.get("/events?q=tong ket", headers=svc.admin)).json()
    assert [e["id"] for e in found["items"]] == [event["id"]]


async def test_a_retitle_read_before_another_change_of_its_terms_is_refused_not_mixed(svc):
    """Two organisers: one moves the first session, one renames, both from the same read.
    The rename's terms would carry the old order: it is refused (changed meanwhile)."""
    event = await svc.event(title={"vi": "Hội nghị Mùa Hạ"})
    events = svc.deps.events
    read = await events.get(event["id"])
    moved = {"$set": {"first_start": read["first_start"] + 86_400}}
    assert await events.change(event["id"], "published", moved, before=read) is not None
    assert await events.change(event["id"], "published", retitling(read, "Hội nghị Mùa Đông"), before=read) is None
    assert await titled(svc, "mua ha") == [event["id"]]
    assert await titled(svc, "dong") == []
    stored = await events.get(event["id"])
    terms = [t async for t in events.terms.collection.find({"owner": event["id"]})]
    order = f"{float(stored['first_start']):016.3f} {event['id']}"
    assert terms and all(t["key"].endswith(order) for t in terms), "every term in the stored order"
