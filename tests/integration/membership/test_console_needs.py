"""What the staff console needs from membership (issue 12): the tree with member counts
within reach, members filtered by dues, an import's size known from the start, and the
rejected rows given back as a file to fix and upload again."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from services.membership.endpoints import api
from tests.integration.membership.conftest import post_file

pytestmark = pytest.mark.integration
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _member(client, headers, **fields) -> dict:
    resp = await client.post("/members", headers=headers, json=fields)
    assert resp.status == 201, await resp.text()
    return await resp.json()


def test_each_is_in_the_openapi_document():
    paths, _ = api.openapi_paths()
    assert "/api/v1/members/imports/{job_id}/rejected" in paths
    assert "/api/v1/membership/imports/{job_id}/rejected" in paths
    params = {p["name"] for p in paths["/api/v1/organizations"]["get"]["parameters"]}
    assert "with_counts" in params
    assert "dues_state" in {p["name"] for p in paths["/api/v1/members"]["get"]["parameters"]}
    assert "dues_state" in {p["name"] for p in paths["/api/v1/members/export"]["get"]["parameters"]}


async def test_organisations_with_member_counts_within_reach(client, admin, signed, federation):
    it, branch, medicine = federation["HOI-TIN-HOC"], federation["CH-TIN-HOC-TDM"], federation["HOI-Y-HOC"]
    await _member(client, admin, full_name="Một Tin", organization_ids=[it, branch])
    await _member(client, admin, full_name="Hai Tin", organization_ids=[it])
    await _member(client, admin, full_name="Ba Y", organization_ids=[medicine])
    gone = await _member(client, admin, full_name="Bốn Xoá", organization_ids=[it])
    await client.delete(f"/members/{gone['id']}/personal-data", headers=admin)

    plain = await (await client.get("/organizations", headers=admin)).json()
    assert all("member_count" not in o for o in plain["items"])
    counted = await (await client.get("/organizations", params={"with_counts": "true"}, headers=admin)).json()
    counts = {o["code"]: o["member_count"] for o in counted["items"]}
    assert (counts["HOI-TIN-HOC"], counts["CH-TIN-HOC-TDM"], counts["HOI-Y-HOC"], counts["LHH-BD"]) == (2, 1, 1, 0)

    manager = signed(sub="staff:it", roles=("manager",), organization_id=it)
    theirs = await (await client.get("/organizations", params={"with_counts": "true"}, headers=manager)).json()
    seen = {o["code"]: o.get("member_count") for o in theirs["items"]}
    assert (seen["HOI-TIN-HOC"], seen["CH-TIN-HOC-TDM"]) == (2, 1)
    assert seen["HOI-Y-HOC"] is None and seen["LHH-BD"] is None


async def test_members_and_exports_filter_by_dues(client, admin):
    paid = await _member(client, admin, full_name="Đã Đóng Phí")
    await _member(client, admin, full_name="Chưa Đóng Phí")
    dues = {"amount_vnd": 200000, "paid_on": "2026-12-01"}
    assert (await client.post(f"/members/{paid['id']}/renew", headers=admin, json={"dues": dues})).status == 200

    page = await (await client.get("/members", params={"dues_state": "paid"}, headers=admin)).json()
    assert [m["full_name"] for m in page["items"]] == ["Đã Đóng Phí"]
    page = await (await client.get("/members", params={"dues_state": "unpaid"}, headers=admin)).json()
    assert [m["full_name"] for m in page["items"]] == ["Chưa Đóng Phí"]
    exported = await client.get("/members/export", params={"dues_state": "unpaid", "format": "csv"}, headers=admin)
    names = [r[1] for r in csv.reader(io.StringIO((await exported.read()).decode("utf-8-sig")))][1:]
    assert names == ["Chưa Đóng Phí"]
    searched = await client.get("/members/export", params={"q": "da dong", "format": "csv"}, headers=admin)
    assert [r[1] for r in csv.reader(io.StringIO((await searched.read()).decode("utf-8-sig")))][1:] == ["Đã Đóng Phí"]
    assert (await client.get("/members", params={"dues_state": "late"}, headers=admin)).status == 422


async def test_an_import_knows_how_many_rows_its_file_holds(client, admin):
    sheet = "Họ và tên,Email\nMột,mot@example.vn\n\nHai,hai@example.vn\nBa,ba@example.vn\n"
    report = await (await post_file(client, "/members/imports", admin, sheet.encode(), wait="true")).json()
    assert report["total_rows"] == 3 and report["rows"] == 3

    book = Workbook()
    book.active.append(["Họ và tên"])
    for name in ("Bốn", "Năm"):
        book.active.append([name])
    raw = io.BytesIO()
    book.save(raw)
    report = await (await post_file(client, "/members/imports", admin, raw.getvalue(), XLSX, wait="true")).json()
    assert report["total_rows"] == 2 and report["created"] == 2
    listed = await (await client.get("/members/imports", headers=admin)).json()
    assert listed["items"][0]["total_rows"] == 2


async def test_rejected_rows_come_back_as_a_file_to_fix(client, admin, signed):
    sheet = (
        "STT,Họ và tên,Ngày sinh,Email,Ghi chú\n"
        "1,Đúng Người,01/02/1980,dung@example.vn,ok\n"
        '2,Sai Ngày,31/02/1980,sai@example.vn,=HYPERLINK("http://evil.example")\n'
        "3,,01/01/1990,khong-ten@,\n"
    )
    manager = signed(sub="staff:lan", roles=("admin",))
    report = await (await post_file(client, "/members/imports", manager, sheet.encode(), wait="true")).json()
    assert report["rejected"] == 2

    resp = await client.get(f"/members/imports/{report['id']}/rejected", params={"format": "csv"}, headers=admin)
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0] == ["Dòng", "STT", "Họ và tên", "Ngày sinh", "Email", "Ghi chú", "Lý do"]
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert rows[1][1:6] == ["2", "Sai Ngày", "31/02/1980", "sai@example.vn", '\'=HYPERLINK("http://evil.example")']
    assert rows[1][6].startswith("Ngày không hợp lệ")
    assert "Thiếu họ và tên" in rows[2][6] and "email" in rows[2][6].lower()

    english = await client.get(
        f"/membership/imports/{report['id']}/rejected",
        params={"format": "xlsx"},
        headers={**admin, "Accept-Language": "en"},
    )
    sheet_rows = list(load_workbook(io.BytesIO(await english.read())).active.iter_rows(values_only=True))
    assert sheet_rows[0][0] == "Line" and sheet_rows[0][-1] == "Reason"
    assert sheet_rows[1][-1].startswith("Not a valid date")

    stranger = signed(sub="staff:other", roles=("manager",), organization_id="x")
    assert (await client.get(f"/members/imports/{report['id']}/rejected", headers=stranger)).status == 404
