"""Name search through its index (issue 14): a member is found by the words of their name
as it is now, within the caller's reach, whichever way they were written (entered,
corrected, moved, imported, stored before search had an index, or by writes that race),
and never again once erased — the index keeps nothing of an erased name, even when the
erasure is retried after a failure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.membership.api import USE_CASES
from services.membership.changing import event
from services.membership.members import derived_keys
from services.membership.store import MEMBER_TERMS, MEMBERS, MemberStore, member_terms
from shared.contracts import MemberUpdated
from shared.mongo import connect
from tests.integration.membership.conftest import post_file

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(settings) -> AsyncIterator:
    client = connect(settings.mongo_url)
    yield client[settings.database("membership")]
    await client.close()


async def add(client, headers, **member) -> dict:
    resp = await client.post("/members", headers=headers, json=member)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def names(client, headers, **params) -> list[str]:
    page = await (await client.get("/members", params={"limit": 200, **params}, headers=headers)).json()
    assert "items" in page, page
    return [m["full_name"] for m in page["items"]]


async def test_a_renamed_member_is_found_under_the_new_name_only(client, admin):
    member = await add(client, admin, full_name="Nguyễn Thị Cũ")
    assert await names(client, admin, q="ng thi cu") == ["Nguyễn Thị Cũ"]
    resp = await client.patch(f"/members/{member['id']}", headers=admin, json={"full_name": "Lê Thị Mới"})
    assert resp.status == 200, await resp.text()
    assert await names(client, admin, q="cu") == []
    assert await names(client, admin, q="nguyen") == []
    assert await names(client, admin, q="le moi") == ["Lê Thị Mới"]
    assert await names(client, admin, q="thi") == ["Lê Thị Mới"]


async def test_a_name_search_keeps_to_the_callers_reach_and_follows_a_move(client, admin, signed, federation):
    medicine, it = federation["HOI-Y-HOC"], federation["HOI-TIN-HOC"]
    doctor = await add(client, admin, full_name="Phan Văn Khám", organization_ids=[medicine])
    await add(client, admin, full_name="Phan Văn Khoa", organization_ids=[it])
    await add(client, admin, full_name="Phan Văn Không")  # in no organisation: admins only
    manager = signed(sub="staff:y", roles=("manager",), organization_id=medicine)
    assert await names(client, admin, q="phan kh") == ["Phan Văn Khám", "Phan Văn Khoa", "Phan Văn Không"]
    assert await names(client, manager, q="phan kh") == ["Phan Văn Khám"]
    assert await names(client, manager, q="khoa") == []

    moved = await client.patch(f"/members/{doctor['id']}", headers=admin, json={"organization_ids": [it]})
    assert moved.status == 200, await moved.text()
    assert await names(client, manager, q="phan kh") == []
    assert await names(client, signed(sub="staff:t", roles=("manager",), organization_id=it), q="phan kh") == [
        "Phan Văn Khám",
        "Phan Văn Khoa",
    ]


async def test_name_search_pages_cover_everyone_once_beside_filters(client, admin):
    ids = [(await add(client, admin, full_name=f"Nguyễn Văn {'ABCDE'[i % 5]}{i}"))["id"] for i in range(23)]
    for i in range(8):
        await add(client, admin, full_name=f"Trần Thị Khác {i}")
    for member_id in ids[:3]:  # few of many pass the filter: the search reads on until its page is full
        await client.post(f"/members/{member_id}/suspend", headers=admin, json={"reason": "Chưa đóng hội phí"})
    seen: list[str] = []
    after = None
    while True:
        params = {"q": "ng v", "limit": 5, **({"after": after} if after else {})}
        page = await (await client.get("/members", params=params, headers=admin)).json()
        seen += [m["id"] for m in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 23 and set(seen) == set(ids)
    assert len(await names(client, admin, q="nguyen", status="suspended", limit=2)) == 2
    assert len(await names(client, admin, q="nguyen", status="suspended")) == 3


async def test_erasure_leaves_nothing_of_the_name_in_the_search_index(client, admin, store):
    member = await add(client, admin, full_name="Quách Thị Xoá", email="xoa@example.vn")
    await client.patch(f"/members/{member['id']}", headers=admin, json={"full_name": "Quách Thị Xoá Hai"})
    assert await store[MEMBER_TERMS].count_documents({"owner": member["id"]}) > 0
    assert (await client.delete(f"/members/{member['id']}/personal-data", headers=admin)).status == 200
    assert await store[MEMBER_TERMS].count_documents({"owner": member["id"]}) == 0
    left = str(await store[MEMBER_TERMS].find({}).to_list())
    assert "quach" not in left and "xoa" not in left
    assert await names(client, admin, q="quach") == []


async def test_imported_members_are_found_by_name_and_by_reach_after_a_second_file(
    client, admin, signed, federation, store
):
    header = "Họ và tên,Ngày sinh,Email,Điện thoại,Mã đơn vị\n"
    first = header + "Âu Văn Một,01/01/1980,mot@x.vn,,HOI-CO-KHI\nÂu Thị Hai,02/02/1982,,0912000002,HOI-Y-HOC\n"
    report = await (await post_file(client, "/members/imports", admin, first.encode(), wait="true")).json()
    assert report["created"] == 2, report
    assert await names(client, admin, q="au") == ["Âu Thị Hai", "Âu Văn Một"]
    it_manager = signed(sub="staff:t", roles=("manager",), organization_id=federation["HOI-TIN-HOC"])
    assert await names(client, it_manager, q="au") == []

    second = header + "Âu Văn Một,01/01/1980,mot@x.vn,,HOI-TIN-HOC\n"  # placed in one more organisation
    report = await (await post_file(client, "/members/imports", admin, second.encode(), wait="true")).json()
    assert report["updated"] == 1, report
    assert await names(client, it_manager, q="au mot") == ["Âu Văn Một"]
    moved = await store[MEMBERS].find_one({"email": "mot@x.vn"})
    held = {t["_id"] async for t in store[MEMBER_TERMS].find({"owner": moved["_id"]})}
    assert held == {t["_id"] for t in member_terms(moved)}, "the terms of its first place are gone"


async def test_members_stored_before_the_index_are_found_after_a_start(client, admin, store):
    member = await add(client, admin, full_name="Đinh Công Cũ")
    await store[MEMBER_TERMS].delete_many({"owner": member["id"]})  # as stored before name terms existed
    await store[MEMBERS].update_one({"_id": member["id"]}, {"$unset": {"name_terms": ""}})
    assert await names(client, admin, q="dinh cong") == []
    assert await client.app[USE_CASES].finding.index_names() == 1  # what the service does at start
    assert await names(client, admin, q="dinh cong") == ["Đinh Công Cũ"]
    assert await client.app[USE_CASES].finding.index_names() == 0


# --- writes that race (each interleaving made deterministic through the store) ------------


def member_store(client) -> MemberStore:
    return client.app[USE_CASES].finding.deps.members


def renaming(doc, name: str) -> dict:
    """The update a rename makes (the name and the keys derived from it)."""
    return {"$set": {"full_name": name, **derived_keys(doc["_id"], name, doc.get("date_of_birth"))}}


def announced(doc, name: str):
    return event(MemberUpdated(member_id=doc["_id"], full_name=name, status=doc["status"]), None)


async def rename(members: MemberStore, doc, name: str, bulk: bool) -> None:
    """A rename through a staff edit (conditional on the version read) or an import (bulk)."""
    if bulk:
        assert await members.change_many([(doc, renaming(doc, name), announced(doc, name))]) == 1
    else:
        assert await members.apply(doc, renaming(doc, name), [], {}) is not None


async def test_an_edit_that_changes_no_name_field_writes_no_term(client, admin, monkeypatch):
    member = await add(client, admin, full_name="Đỗ Thị Yên", email="do@example.vn")
    members = member_store(client)
    written: list = []
    for name in ("add", "drop"):

        async def spy(found, real=getattr(members.terms, name)) -> None:
            written.extend(found)
            await real(found)

        monkeypatch.setattr(members.terms, name, spy)
    resp = await client.patch(f"/members/{member['id']}", headers=admin, json={"email": "do.yen@example.vn"})
    assert resp.status == 200, await resp.text()
    assert written == []
    assert await names(client, admin, q="do yen") == ["Đỗ Thị Yên"]


async def test_a_double_submitted_rename_leaves_the_member_found_under_the_new_name(client, admin):
    member = await add(client, admin, full_name="Hồ Văn Trước")
    members = member_store(client)
    read = await members.get(member["id"])  # both submissions read the same version
    assert await members.apply(read, renaming(read, "Hồ Văn Sau"), [], {}) is not None
    assert await members.apply(read, renaming(read, "Hồ Văn Sau"), [], {}) is None  # changed meanwhile: refused
    assert await names(client, admin, q="ho sau") == ["Hồ Văn Sau"]
    assert await names(client, admin, q="truoc") == []


async def test_an_import_row_refused_beside_a_rename_leaves_the_renamed_member_found(client, admin):
    member = await add(client, admin, full_name="Hồ Văn Trước", email="ho@example.vn")
    await add(client, admin, full_name="Lý Thị Có", email="ly@example.vn")
    members = member_store(client)
    read = await members.get(member["id"])
    assert await members.apply(read, renaming(read, "Hồ Văn Sau"), [], {}) is not None  # a staff rename
    # An import row read before it says the same name, and an email someone else holds: refused.
    row = renaming(read, "Hồ Văn Sau")
    row["$set"]["email"] = "ly@example.vn"
    assert await members.change_many([(read, row, announced(read, "Hồ Văn Sau"))]) == 0
    assert await names(client, admin, q="ho sau") == ["Hồ Văn Sau"]


@pytest.mark.parametrize("bulk", [False, True], ids=["edit", "import"])
async def test_crossing_renames_leave_the_member_found_under_the_name_it_has(client, admin, monkeypatch, bulk):
    member = await add(client, admin, full_name="Vũ Văn Xuân")
    members = member_store(client)
    drop = members.terms.drop

    async def late_drop(ids) -> None:
        # The first rename (Xuân → Yên) is written; before it drops the old name's terms, a
        # second one (Yên → Xuân, read after it) is made in full.
        monkeypatch.setattr(members.terms, "drop", drop)
        back = await members.get(member["id"])
        await rename(members, back, "Vũ Văn Xuân", bulk=False)
        await drop(ids)

    monkeypatch.setattr(members.terms, "drop", late_drop)
    await rename(members, await members.get(member["id"]), "Vũ Văn Yên", bulk)
    assert members.terms.drop == drop, "the second rename ran"
    assert await names(client, admin, q="vu xuan") == ["Vũ Văn Xuân"]
    assert await names(client, admin, q="yen") == []


async def test_an_erasure_retried_after_failing_past_the_members_write_leaves_nothing_of_them(
    client, admin, store, monkeypatch
):
    member = await add(client, admin, full_name="Quách Thị Lỗi", phone="0913555777")
    sheet = "Họ và tên,Email,Điện thoại,Ngày sinh\nQuách Thị Lỗi,,0913 555 777,31/02/1990\n"  # refused for its date
    report = await (await post_file(client, "/members/imports", admin, sheet.encode(), wait="true")).json()
    assert report["rejected"] == 1, report
    members = member_store(client)
    forget = members.terms.forget

    async def failing(owner: str) -> None:  # the store goes away just after the member's write
        monkeypatch.setattr(members.terms, "forget", forget)
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(members.terms, "forget", failing)
    path = f"/members/{member['id']}/personal-data"
    failed = await client.delete(path, headers=admin)
    assert failed.status == 500, await failed.text()
    assert (await (await client.get(f"/members/{member['id']}", headers=admin)).json())["status"] == "erased"

    retried = await client.delete(path, headers=admin)
    assert retried.status == 200, await retried.text()
    assert await store[MEMBER_TERMS].count_documents({"owner": member["id"]}) == 0
    assert "quach" not in str(await store[MEMBER_TERMS].find({}).to_list())
    rows = str(await store["member_import_errors"].find({}).to_list())
    assert "Quách" not in rows and "quach" not in rows and "0913" not in rows
