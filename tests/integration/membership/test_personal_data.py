"""A member's rights over their data: everything held about them on request, and
erasure that anonymises the record, keeps the counts, and tells other services."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_a_members_data_export_holds_everything_about_them(client, admin, federation):
    member = await (
        await client.post(
            "/members",
            headers=admin,
            json={
                "full_name": "Tôn Nữ Thảo",
                "email": "thao@example.vn",
                "phone": "0935 111 222",
                "date_of_birth": "1990-01-02",
                "organization_ids": [federation["HOI-GIAO-DUC"]],
            },
        )
    ).json()
    await client.post(
        f"/members/{member['id']}/renew",
        headers=admin,
        json={"dues": {"amount_vnd": 150000, "paid_on": "2026-11-01", "receipt_number": "PT-7"}},
    )
    resp = await client.get(f"/members/{member['id']}/personal-data", headers=admin)
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    data = await resp.json()
    assert (data["full_name"], data["email"], data["phone"]) == ("Tôn Nữ Thảo", "thao@example.vn", "+84935111222")
    assert [h["action"] for h in data["history"]] == ["created", "renewed"]
    assert data["dues_payments"][0]["receipt_number"] == "PT-7"
    assert data["organizations"] == [
        {"id": federation["HOI-GIAO-DUC"], "code": "HOI-GIAO-DUC", "name": "Hội Khoa học Giáo dục tỉnh"}
    ]


async def test_erasure_anonymises_keeps_counts_and_tells_other_services(client, admin, signed, federation, events):
    member = await (
        await client.post(
            "/members",
            headers=admin,
            json={
                "full_name": "Quách Thị Xoá",
                "email": "xoa@example.vn",
                "phone": "0935 333 444",
                "date_of_birth": "1991-05-06",
                "titles": ["ThS"],
                "organization_ids": [federation["HOI-GIAO-DUC"]],
            },
        )
    ).json()
    await client.patch(f"/members/{member['id']}", headers=admin, json={"email": "xoa2@example.vn"})
    manager = signed(sub="staff:m", roles=("manager",), organization_id=federation["HOI-GIAO-DUC"])
    assert (await client.delete(f"/members/{member['id']}/personal-data", headers=manager)).status == 403

    resp = await client.delete(f"/members/{member['id']}/personal-data", headers=admin)
    assert resp.status == 200, await resp.text()
    erased = await resp.json()
    assert erased["status"] == "erased" and erased["full_name"] == "[đã xoá]"
    for field in ("email", "phone", "date_of_birth"):
        assert field not in erased
    assert erased["organization_ids"] == [federation["HOI-GIAO-DUC"]] and erased["titles"] == ["ThS"]
    assert (await events.wait_for("member.erased", member["id"]))[0].member_id == member["id"]

    data = await (await client.get(f"/members/{member['id']}/personal-data", headers=admin)).json()
    text = str(data)
    assert "xoa" not in text.lower().replace("[đã xoá]", "") and "Quách" not in text and "0935" not in text
    assert [h["action"] for h in data["history"]] == ["created", "updated", "erased"]
    assert await (await client.get("/members", params={"q": "quach"}, headers=admin)).json() == {
        "items": [],
        "next_after": None,
    }
    counts = (await (await client.get("/members/counts", headers=admin)).json())["counts"]
    assert counts["erased"] == 1 and counts["active"] == 0

    # The email and phone are free again: the person may join anew.
    again = await client.post(
        "/members", headers=admin, json={"full_name": "Quách Thị Xoá", "email": "xoa2@example.vn"}
    )
    assert again.status == 201
    assert (await client.patch(f"/members/{member['id']}", headers=admin, json={"full_name": "X"})).status == 409
