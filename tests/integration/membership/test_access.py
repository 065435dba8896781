"""Managers see and change only their organisation's subtree; partner keys only
what their scopes allow."""

from __future__ import annotations

import pytest

from tests.integration.membership.conftest import post_file

pytestmark = pytest.mark.integration


async def test_a_manager_works_only_inside_their_association(client, admin, signed, federation):
    it, branch, medicine = federation["HOI-TIN-HOC"], federation["CH-TIN-HOC-TDM"], federation["HOI-Y-HOC"]
    ours = await (
        await client.post("/members", headers=admin, json={"full_name": "Mã Văn Nhà", "organization_ids": [branch]})
    ).json()
    theirs = await (
        await client.post("/members", headers=admin, json={"full_name": "Mã Văn Khác", "organization_ids": [medicine]})
    ).json()
    manager = signed(sub="staff:it", roles=("manager",), organization_id=it)

    page = await (await client.get("/members", headers=manager)).json()
    assert [m["full_name"] for m in page["items"]] == ["Mã Văn Nhà"]
    assert (await client.get(f"/members/{ours['id']}", headers=manager)).status == 200
    # Outside reach is not found (the platform's reach rule): a member's existence does not leak.
    resp = await client.get(f"/members/{theirs['id']}", headers=manager)
    assert resp.status == 404 and (await resp.json())["type"].endswith("/not-found")
    assert (await client.get("/members", params={"organization_id": medicine}, headers=manager)).status == 403
    assert (await client.post(f"/members/{theirs['id']}/suspend", headers=manager, json={})).status == 404
    assert (
        await client.patch(f"/members/{ours['id']}", headers=manager, json={"organization_ids": [medicine]})
    ).status == 403
    created = await client.post("/members", headers=manager, json={"full_name": "Mới", "organization_ids": [it]})
    assert created.status == 201
    assert (await client.post("/members", headers=manager, json={"full_name": "Không nơi"})).status == 403

    moved = await client.patch(f"/organizations/{branch}", headers=manager, json={"parent_id": medicine})
    assert moved.status == 403
    assert (await client.patch(f"/organizations/{it}", headers=manager, json={"parent_id": medicine})).status == 403
    renamed = await client.patch(f"/organizations/{branch}", headers=manager, json={"name": "Chi hội Tin học TDM"})
    assert renamed.status == 200
    assert (await client.patch(f"/organizations/{medicine}", headers=manager, json={"name": "X"})).status == 403

    sheet = "Họ và tên,Email,Mã đơn vị\nNgoài Phạm Vi,ngoai@x.vn,HOI-Y-HOC\nTrong Phạm Vi,trong@x.vn,CH-TIN-HOC-TDM\n"
    report = await (await post_file(client, "/members/imports", manager, sheet.encode(), wait="true")).json()
    assert report["created"] == 1 and [e["code"] for e in report["errors"]] == ["organization_forbidden"]
    assert (
        await client.get(
            f"/members/imports/{report['id']}",
            headers=signed(sub="staff:other", roles=("manager",), organization_id=it),
        )
    ).status == 404
    assert (await client.get(f"/members/{ours['id']}/personal-data", headers=manager)).status == 403


async def test_partner_keys_act_within_their_scopes(client, admin, signed):
    member = await (await client.post("/members", headers=admin, json={"full_name": "Đối Tác"})).json()
    reader = signed(sub="key:portal", roles=(), scopes=("members:read",))
    assert (await client.get(f"/members/{member['id']}", headers=reader)).status == 200
    assert (await client.get("/organizations", headers=reader)).status == 200
    refused = await client.post("/members", headers=reader, json={"full_name": "X"})
    assert refused.status == 403 and (await refused.json())["required"] == "members:write"
    writer = signed(sub="key:site", roles=(), scopes=("members:write",))
    assert (await client.post("/members/applications", headers=writer, json={"full_name": "Ứng Viên"})).status == 201
    assert (await client.get("/members/counts", headers=writer)).status == 403


async def test_a_partner_key_bound_to_an_association_reaches_only_its_subtree(client, admin, signed, federation):
    it, branch, medicine = federation["HOI-TIN-HOC"], federation["CH-TIN-HOC-TDM"], federation["HOI-Y-HOC"]
    ours = await (
        await client.post(
            "/members", headers=admin, json={"full_name": "Hội Viên Tin Học", "organization_ids": [branch]}
        )
    ).json()
    theirs = await (
        await client.post(
            "/members", headers=admin, json={"full_name": "Hội Viên Y Học", "organization_ids": [medicine]}
        )
    ).json()
    site = signed(sub="key:hoi-tin-hoc", roles=(), scopes=("members:read",), organization_id=it)
    page = await (await client.get("/members", headers=site)).json()
    assert [m["id"] for m in page["items"]] == [ours["id"]]
    assert (await client.get(f"/members/{ours['id']}", headers=site)).status == 200
    assert (await client.get(f"/members/{theirs['id']}", headers=site)).status == 404
