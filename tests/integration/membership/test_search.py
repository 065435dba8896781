"""Finding members the way staff type: case and diacritics ignored, filters,
stable pages, Vietnamese name order, and likely duplicates."""

from __future__ import annotations

from datetime import date

import pytest

pytestmark = pytest.mark.integration


async def add(client, admin, **member) -> dict:
    resp = await client.post("/members", headers=admin, json=member)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def names(client, admin, **params) -> list[str]:
    page = await (await client.get("/members", params={"limit": 200, **params}, headers=admin)).json()
    assert "items" in page, page
    return [m["full_name"] for m in page["items"]]


def born_years_ago(years: int, days: int = 0) -> str:
    today = date.today()
    return (
        date(today.year - years, today.month, min(today.day, 28)).isoformat()
        if not days
        else date.fromordinal(date(today.year - years, today.month, min(today.day, 28)).toordinal() + days).isoformat()
    )


async def test_search_ignores_case_and_vietnamese_diacritics(client, admin):
    for name in ("Nguyễn Văn A", "Nguyễn Văn An", "Đặng Thị Bích", "Dương Văn Dang", "Trần Anh"):
        await add(client, admin, full_name=name)
    assert await names(client, admin, q="nguyen van a") == ["Nguyễn Văn A", "Nguyễn Văn An"]
    assert await names(client, admin, q="NGUYỄN VĂN A") == ["Nguyễn Văn A", "Nguyễn Văn An"]
    assert (
        set(await names(client, admin, q="đặng"))
        == set(await names(client, admin, q="dang"))
        == {"Đặng Thị Bích", "Dương Văn Dang"}
    )
    assert await names(client, admin, q="van a") == ["Nguyễn Văn A", "Nguyễn Văn An"]
    assert await names(client, admin, q="anh") == ["Trần Anh"]
    assert await names(client, admin, q="an") == ["Nguyễn Văn An", "Trần Anh"], "words match from their start"
    # Every word of the search begins a word of the name, in order (issue 14: "ng van a").
    assert await names(client, admin, q="ng van a") == ["Nguyễn Văn A", "Nguyễn Văn An"]
    assert await names(client, admin, q="ng a") == ["Nguyễn Văn A", "Nguyễn Văn An"]
    assert await names(client, admin, q="d t b") == ["Đặng Thị Bích"]
    assert await names(client, admin, q="van ng") == []


async def test_lists_read_in_vietnamese_name_order(client, admin):
    people = [
        "Trần Văn Bình",
        "Nguyễn Thị An",
        "Lê Anh",
        "Phạm Ân",
        "Phạm Ăn",
        "Đỗ Đức",
        "Đỗ Dũng",
        "Bùi Văn An",
        "Võ Ơn",
        "Võ Ông",
        "Võ Oanh",
        "Hoàng Ư",
        "Hoàng Uyên",
    ]
    for name in people:
        await add(client, admin, full_name=name)
    assert await names(client, admin) == [
        "Nguyễn Thị An",
        "Bùi Văn An",
        "Lê Anh",
        "Phạm Ăn",
        "Phạm Ân",
        "Trần Văn Bình",
        "Đỗ Dũng",
        "Đỗ Đức",
        "Võ Oanh",
        "Võ Ông",
        "Võ Ơn",
        "Hoàng Uyên",
        "Hoàng Ư",
    ]


async def test_pages_are_stable_and_cover_everyone_once(client, admin):
    for i in range(23):
        await add(client, admin, full_name=f"Nguyễn Văn {'ABCDE'[i % 5]}")
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 5, **({"after": after} if after else {})}
        page = await (await client.get("/members", params=params, headers=admin)).json()
        seen += [m["id"] for m in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 23
    resp = await client.get("/members", params={"after": "not a cursor!"}, headers=admin)
    assert resp.status == 422 and (await resp.json())["errors"][0]["field"] == "after"


async def test_filters_by_organisation_subtree_status_title_expertise_and_youth(client, admin, federation):
    it, branch, medicine = federation["HOI-TIN-HOC"], federation["CH-TIN-HOC-TDM"], federation["HOI-Y-HOC"]
    young = await add(
        client,
        admin,
        full_name="Lý Thị Trẻ",
        organization_ids=[branch],
        titles=["ThS"],
        expertise="Công nghệ thông tin",
        date_of_birth=born_years_ago(35),
    )
    older = await add(
        client,
        admin,
        full_name="Mạc Văn Già",
        organization_ids=[it],
        titles="PGS.TS",
        expertise="công nghệ thông tin",
        date_of_birth=born_years_ago(36, days=-1),
    )
    await add(client, admin, full_name="Tạ Thị Y", organization_ids=[medicine], titles=["BS"], expertise="Y học")
    assert young["young_intellectual"] is True and older["young_intellectual"] is False

    assert set(await names(client, admin, organization_id=it)) == {"Lý Thị Trẻ", "Mạc Văn Già"}
    assert await names(client, admin, organization_id=it, include_subtree="false") == ["Mạc Văn Già"]
    assert await names(client, admin, title="TS") == ["Mạc Văn Già"]
    assert await names(client, admin, expertise="Cong nghe thong tin", young_intellectual="true") == ["Lý Thị Trẻ"]
    assert await names(client, admin, young_intellectual="false") == ["Mạc Văn Già"], "no birth date: neither"
    await client.post(f"/members/{older['id']}/suspend", headers=admin, json={"reason": "Chưa đóng hội phí"})
    assert await names(client, admin, status="suspended") == ["Mạc Văn Già"]
    assert await names(client, admin, q="0912") == []

    resp = await client.get("/members", params={"title": "Dr", "status": "sleeping"}, headers=admin)
    assert resp.status == 422 and {e["field"] for e in (await resp.json())["errors"]} == {"title", "status"}
    resp = await client.get("/members", params={"organization_id": "nowhere"}, headers=admin)
    assert resp.status == 404


async def test_phone_and_email_find_their_member(client, admin):
    member = await add(client, admin, full_name="Hà Văn Phone", phone="0162 345 6789", email="Ha@Example.vn")
    assert member["phone"] == "+84323456789", "0162 was Viettel's old prefix, now 032"
    assert await names(client, admin, q="032 345 6789") == ["Hà Văn Phone"]
    assert await names(client, admin, q="01623456789") == ["Hà Văn Phone"]
    assert await names(client, admin, q="HA@example.vn") == ["Hà Văn Phone"]


async def test_likely_duplicates_share_a_folded_name_and_birth_date(client, admin):
    a = await add(client, admin, full_name="Nguyễn Thị Lan", date_of_birth="1980-03-04", email="lan1@x.vn")
    b = await add(client, admin, full_name="nguyen thi  lan", date_of_birth="1980-03-04", email="lan2@x.vn")
    await add(client, admin, full_name="Nguyễn Thị Lan", date_of_birth="1981-03-04")
    groups = (await (await client.get("/members/duplicates", headers=admin)).json())["groups"]
    assert [{m["id"] for m in g["members"]} for g in groups] == [{a["id"], b["id"]}]
