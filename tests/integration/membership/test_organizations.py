"""The organisation tree: imported from the office's sheet, changed and moved only
into places the federation's structure allows, announced to other services."""

from __future__ import annotations

import pytest

from tests.integration.membership.conftest import post_file
from tests.support import DATA

pytestmark = pytest.mark.integration


async def test_the_sample_tree_imports_parents_first_and_again_changes_nothing(client, admin, events):
    body = (DATA / "organizations_sample.csv").read_bytes()
    report = await (await post_file(client, "/organizations/imports", admin, body)).json()
    assert (report["created"], report["updated"], report["rejected"]) == (11, 0, 0)
    tree = (await (await client.get("/organizations", headers=admin)).json())["items"]
    by_code = {o["code"]: o for o in tree}
    assert tree[0]["code"] == "LHH-BD" and tree[0]["kind"] == "federation" and tree[0]["depth"] == 0
    assert by_code["CH-TIN-HOC-TDM"]["parent_id"] == by_code["HOI-TIN-HOC"]["id"]
    assert by_code["CH-TIN-HOC-TDM"]["depth"] == 2
    assert by_code["HOI-Y-HOC"]["name"] == "Hội Y học tỉnh"
    created = await events.wait_for("organization.created", count=11)
    assert {e.code for e in created} == set(by_code)

    again = await (await post_file(client, "/organizations/imports", admin, body)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 11)


async def test_bad_organisation_rows_are_reported_and_the_rest_go_in(client, admin, federation):
    sheet = (
        "Mã đơn vị;Tên đơn vị;Loại;Đơn vị cấp trên\n"
        "HOI-VAT-LY;Hội Vật lý tỉnh;association;LHH-BD\n"
        "CH-VAT-LY-1;Chi hội Vật lý số 1;chi hội;HOI-VAT-LY\n"
        "CH-SAI;Chi hội đặt sai chỗ;branch;LHH-BD\n"
        "X;Mã quá ngắn;association;LHH-BD\n"
        "HOI-MA;Hội ma;kind-of;LHH-BD\n"
        "TT-MO-COI;Trung tâm mồ côi;centre;KHONG-CO\n"
    )
    report = await (await post_file(client, "/organizations/imports", admin, sheet.encode(), lang="en")).json()
    assert report["created"] == 2
    contacts = (
        "Mã đơn vị,Tên đơn vị,Loại,Đơn vị cấp trên,Email,Điện thoại\n"
        "HOI-VAT-LY,Hội Vật lý tỉnh,association,LHH-BD,VP@HoiVatLy.vn,0274 3822 222\n"
    )
    first = await (await post_file(client, "/organizations/imports", admin, contacts.encode())).json()
    again = await (
        await post_file(
            client, "/organizations/imports", admin, contacts.replace("0274 3822 222", "+84 274 382 2222").encode()
        )
    ).json()
    assert (first["updated"], again["updated"], again["unchanged"]) == (1, 0, 1)
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (4, "placement_invalid"),
        (5, "code_invalid"),
        (6, "kind_unknown"),
        (7, "parent_unknown"),
    ]
    assert "branch cannot sit under a federation" in report["errors"][0]["reason"]


async def test_moves_keep_the_tree_valid(client, admin, federation, events):
    it, branch, mech = federation["HOI-TIN-HOC"], federation["CH-TIN-HOC-TDM"], federation["HOI-CO-KHI"]
    moved = await client.patch(f"/organizations/{branch}", headers=admin, json={"parent_id": mech})
    assert moved.status == 200 and (await moved.json())["parent_id"] == mech
    update = await events.wait_for("organization.updated")
    assert update[0].organization_id == branch and update[0].parent_id == mech

    cycle = await client.patch(f"/organizations/{mech}", headers=admin, json={"parent_id": branch})
    assert cycle.status == 422 and (await cycle.json())["field"] == "parent_id"
    under_federation = await client.patch(
        f"/organizations/{branch}", headers=admin, json={"parent_id": federation["LHH-BD"]}
    )
    body = await under_federation.json()
    assert under_federation.status == 422 and body["type"].endswith("/invalid-placement")
    under_sme = await client.post(
        "/organizations",
        headers=admin,
        json={"code": "CLB-X", "name": "Câu lạc bộ X", "kind": "branch", "parent_id": federation["DN-CO-KHI-PHU-MY"]},
    )
    assert under_sme.status == 422
    second_root = await client.post(
        "/organizations", headers=admin, json={"code": "LHH-2", "name": "Liên hiệp thứ hai", "kind": "federation"}
    )
    assert second_root.status == 422

    subtree = (await (await client.get(f"/organizations/{mech}/subtree", headers=admin)).json())["items"]
    assert [o["code"] for o in subtree] == ["HOI-CO-KHI", "CH-TIN-HOC-TDM"]
    assert [
        o["code"] for o in (await (await client.get(f"/organizations/{it}/subtree", headers=admin)).json())["items"]
    ] == ["HOI-TIN-HOC"]


async def test_organisations_are_created_changed_and_dissolved_with_clear_errors(client, admin, federation):
    resp = await client.post(
        "/organizations",
        headers=admin,
        json={
            "code": "hoi-vat-ly",
            "name": "  Hội  Vật lý ",
            "kind": "association",
            "parent_id": federation["LHH-BD"],
            "contact_email": "VatLy@Example.vn",
            "contact_phone": "0274 3822 222",
        },
    )
    assert resp.status == 201, await resp.text()
    org = await resp.json()
    assert (org["code"], org["name"], org["contact_email"]) == ("HOI-VAT-LY", "Hội Vật lý", "vatly@example.vn")
    assert org["contact_phone"] == "+842743822222"

    clash = await client.post(
        "/organizations",
        headers=admin,
        json={"code": "HOI-VAT-LY", "name": "Khác", "kind": "association", "parent_id": federation["LHH-BD"]},
    )
    assert clash.status == 409 and (await clash.json())["existing_organization_id"] == org["id"]
    bad = await client.post("/organizations", headers=admin, json={"code": "a b", "name": "", "kind": "club"})
    assert bad.status == 422 and {e["field"] for e in (await bad.json())["errors"]} == {"code", "name", "kind"}

    renamed = await (
        await client.patch(f"/organizations/{org['id']}", headers=admin, json={"name": "Hội Vật lý tỉnh Bình Dương"})
    ).json()
    assert renamed["name"] == "Hội Vật lý tỉnh Bình Dương"

    busy = await client.delete(f"/organizations/{federation['HOI-TIN-HOC']}", headers=admin)
    assert busy.status == 409 and (await busy.json())["sub_organization_id"] == federation["CH-TIN-HOC-TDM"]
    member = await (
        await client.post(
            "/members",
            headers=admin,
            json={"full_name": "Hội Viên Cuối", "organization_ids": [federation["DN-CO-KHI-PHU-MY"]]},
        )
    ).json()
    with_member = await client.delete(f"/organizations/{federation['DN-CO-KHI-PHU-MY']}", headers=admin)
    assert with_member.status == 409 and (await with_member.json())["member_id"] == member["id"]
    gone = await client.delete(f"/organizations/{org['id']}", headers=admin)
    assert gone.status == 200 and (await gone.json())["status"] == "dissolved"
    assert (await client.get("/organizations/nope", headers=admin)).status == 404
