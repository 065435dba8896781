"""The trust boundary in membership (issue 10): an association sees and changes only its
own, nothing tells a caller who holds an email or phone outside their reach, and every
bad input gets a clear answer in the reader's language."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from services.membership import spreadsheets
from shared.mongo import connect
from tests.integration.membership.conftest import post_file

pytestmark = pytest.mark.integration
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _member(client, headers, **fields) -> dict:
    resp = await client.post("/members", headers=headers, json=fields)
    assert resp.status == 201, await resp.text()
    return await resp.json()


def _it_manager(signed, federation) -> dict[str, str]:
    return signed(sub="staff:it", roles=("manager",), organization_id=federation["HOI-TIN-HOC"])


# --- 10.2 an import never takes over another association's member ----------------------


async def test_an_import_cannot_take_over_a_member_outside_the_importers_reach(client, admin, signed, federation):
    medicine = federation["HOI-Y-HOC"]
    theirs = await _member(
        client, admin, full_name="Lương Thị Y", email="luong.y@example.vn", organization_ids=[medicine]
    )
    alike = await _member(
        client, admin, full_name="Tạ Văn Cùng", date_of_birth="1980-02-03", organization_ids=[medicine]
    )
    manager = _it_manager(signed, federation)
    sheet = (
        "Họ và tên,Email,Ngày sinh,Chuyên ngành,Mã đơn vị\n"
        "Lương Thị Y,luong.y@example.vn,,Tin học,HOI-TIN-HOC\n"
        "Tạ Văn Cùng,,03/02/1980,Tin học,HOI-TIN-HOC\n"
    )
    report = await (await post_file(client, "/members/imports", manager, sheet.encode(), wait="true")).json()
    assert (report["created"], report["updated"], report["rejected"]) == (0, 0, 2), report
    assert [e["code"] for e in report["errors"]] == ["taken_email", "member_elsewhere"]
    for error in report["errors"]:
        assert "existing_member_id" not in error
        assert theirs["id"] not in error["reason"] and "Lương" not in error["reason"]
    for member in (theirs, alike):
        after = await (await client.get(f"/members/{member['id']}", headers=admin)).json()
        assert after["organization_ids"] == [medicine] and "expertise" not in after


# --- 10.4 no "who holds this email" oracle -------------------------------------------------


async def test_clashes_name_the_member_only_within_the_callers_reach(client, admin, signed, federation):
    theirs = await _member(
        client,
        admin,
        full_name="Kiều Thị Khác",
        email="kieu@example.vn",
        phone="0912000111",
        organization_ids=[federation["HOI-Y-HOC"]],
    )
    manager = _it_manager(signed, federation)
    refused = await client.post(
        "/members",
        headers=manager,
        json={"full_name": "Người Mới", "email": "kieu@example.vn", "organization_ids": [federation["HOI-TIN-HOC"]]},
    )
    assert refused.status == 409
    body = await refused.json()
    assert body["field"] == "email" and body["type"].endswith("/duplicate-member")
    assert not body.get("existing_member_id") and not body.get("existing_member_name")
    assert theirs["id"] not in await refused.text()

    sheet = "Họ và tên,Điện thoại,Mã đơn vị\nTên Khác Hẳn,0912000111,HOI-TIN-HOC\n"
    report = await (await post_file(client, "/members/imports", manager, sheet.encode(), wait="true")).json()
    [error] = report["errors"]
    assert error["code"] == "taken_phone" and "existing_member_id" not in error
    assert "Kiều" not in error["reason"] and theirs["id"] not in error["reason"]

    # Within reach (the admin reaches everyone) the clash still names the member.
    named = await client.post("/members", headers=admin, json={"full_name": "X", "email": "kieu@example.vn"})
    assert (await named.json())["existing_member_id"] == theirs["id"]


# --- 10.7 inputs that answered 500 -------------------------------------------------------


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"titles": [1]}, "titles"),
        ({"organization_ids": None}, "organization_ids"),
        ({"consents": None}, "consents"),
        ({"full_name": None}, "full_name"),
    ],
)
async def test_a_member_patch_with_impossible_values_is_a_clear_422(client, admin, patch, field):
    member = await _member(client, admin, full_name="Đỗ Văn Sửa")
    resp = await client.patch(f"/members/{member['id']}", headers=admin, json=patch)
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    assert field in {e["field"] for e in (await resp.json())["errors"]}


async def test_organisation_name_null_and_long_ids_are_clear_4xx(client, admin, federation):
    resp = await client.patch(f"/organizations/{federation['HOI-TIN-HOC']}", headers=admin, json={"name": None})
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    resp = await client.get(f"/organizations/{'x' * 300}/unpaid-dues", headers=admin)
    assert 400 <= resp.status < 500 and resp.content_type == "application/problem+json"


# --- 10.8 the shared-strings bomb -----------------------------------------------------------


def _workbook_with_strings(si_count: int, padding_bytes: int = 0) -> bytes:
    """A minimal XLSX whose shared strings part holds `si_count` strings (and `padding_bytes`
    of highly compressible text): what a bomb looks like, cheap to make."""
    book = Workbook()
    book.active.append(["Họ và tên"])
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if not info.filename.endswith("sharedStrings.xml"):
                dst.writestr(info, src.read(info))
        with dst.open("xl/sharedStrings.xml", "w") as part:
            part.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            part.write(b"<si><t>a</t></si>" * si_count)
            chunk = b" " * (1 << 20)
            for _ in range(padding_bytes // len(chunk)):
                part.write(chunk)
            part.write(b"</sst>")
    return out.getvalue()


async def test_a_workbook_that_unpacks_too_far_is_refused_before_parsing(client, admin):
    bomb = _workbook_with_strings(10, padding_bytes=spreadsheets.MAX_UNPACKED_BYTES + (2 << 20))
    assert len(bomb) < 1_000_000  # small on the wire
    resp = await post_file(client, "/members/imports", admin, bomb, XLSX, wait="true")
    assert resp.status == 413 and resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["errors"][0]["code"] == "file_too_large_unpacked" and "XLSX" in body["detail"]
    resp = await post_file(client, "/organizations/imports", admin, bomb, XLSX)
    assert resp.status == 413


async def test_a_workbook_with_too_many_strings_is_refused(client, admin, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_SHARED_STRINGS", 1000)
    resp = await post_file(
        client, "/members/imports", {**admin, "Accept-Language": "en"}, _workbook_with_strings(1001), XLSX
    )
    assert resp.status == 422
    body = await resp.json()
    assert body["errors"][0]["code"] == "too_many_strings" and "too many strings" in body["detail"]


# --- 10.9 formulas in exports ----------------------------------------------------------------


async def test_member_exports_never_run_what_people_typed(client, admin):
    formula = '=HYPERLINK("http://evil.example","bấm")'
    await _member(client, admin, full_name=formula, expertise="@SUM(1+1)")
    csv_resp = await client.get("/members/export", params={"format": "csv"}, headers=admin)
    rows = list(csv.reader(io.StringIO((await csv_resp.read()).decode("utf-8-sig"))))
    [row] = [r for r in rows[1:] if "HYPERLINK" in r[1]]
    assert row[1] == "'" + formula and row[7] == "'@SUM(1+1)"

    xlsx_resp = await client.get("/members/export", params={"format": "xlsx"}, headers=admin)
    sheet = load_workbook(io.BytesIO(await xlsx_resp.read())).active
    [cell] = [r[1] for r in sheet.iter_rows(min_row=2) if "HYPERLINK" in str(r[1].value)]
    assert cell.data_type == "s" and cell.value == formula


# --- 10.11 erasure reaches rejected import rows --------------------------------------------


async def test_after_erasure_no_rejected_import_row_holds_the_member(client, admin, settings):
    member = await _member(client, admin, full_name="Vương Thị Xoá", email="vuong.xoa@example.vn", phone="0913555666")
    sheet = (
        "Họ và tên,Email,Điện thoại,Ngày sinh\n"
        "Người Khác Tên,vuong.xoa@example.vn,,\n"  # a clash naming the member
        "Vương Thị Xoá,,0913 555 666,31/02/1990\n"  # her own name and phone, refused for its date
    )
    report = await (await post_file(client, "/members/imports", admin, sheet.encode(), wait="true")).json()
    assert report["rejected"] == 2
    assert (await client.delete(f"/members/{member['id']}/personal-data", headers=admin)).status == 200

    again = await (await client.get(f"/members/imports/{report['id']}", headers=admin)).json()
    assert "Vương" not in str(again) and "vuong.xoa" not in str(again)
    store = connect(settings.mongo_url)
    try:
        rows = await store[settings.database("membership")]["member_import_errors"].find().to_list()
    finally:
        await store.close()
    held = str(rows)
    for value in ("Vương Thị Xoá", "vuong thi xoa", "vuong.xoa@example.vn", "0913 555 666", "+84913555666"):
        assert value not in held, value


# --- 10.12 problems in the reader's language ------------------------------------------------


async def test_problems_follow_accept_language_vietnamese_by_default(client, admin, federation):
    member = await _member(client, admin, full_name="Lâm Văn Ngữ", email="ngu@example.vn")
    cases = [
        ("GET", "/members/nobody", None),
        ("POST", "/members", {"full_name": "Khác", "email": "ngu@example.vn"}),
        ("POST", f"/members/{member['id']}/approve", {}),
        ("POST", f"/members/{member['id']}/renew", {"term_start": "2026-05-01", "term_end": "2026-01-01"}),
        ("DELETE", f"/organizations/{federation['HOI-TIN-HOC']}", None),
        ("POST", "/organizations", {"code": "X-Y", "name": "Chi hội", "kind": "branch"}),
    ]
    for method, path, body in cases:
        vi = await (await client.request(method, path, headers=admin, json=body)).json()
        en = await (await client.request(method, path, headers={**admin, "Accept-Language": "en"}, json=body)).json()
        assert vi["type"] == en["type"] and vi["status"] == en["status"] >= 400, (path, vi)
        assert vi["title"] != en["title"] and vi["detail"] != en["detail"], (path, vi, en)
        for vi_error, en_error in zip(vi.get("errors", []), en.get("errors", []), strict=True):
            assert vi_error["message"] != en_error["message"], (path, vi_error)
    assert vi["title"] == "Không được đặt đơn vị ở vị trí này trong cây"


# --- 10.13 the federation's name is the root's -----------------------------------------------


async def test_the_federations_name_is_the_root_of_the_tree(client, admin, settings):
    before = await (await client.get("/federation", headers=admin)).json()
    assert before == {"name": settings.federation_name, "organization_id": None}
    await post_file(
        client,
        "/organizations/imports",
        admin,
        "Mã đơn vị,Tên đơn vị,Loại\nLHH-X,Liên hiệp Hội tỉnh X,federation\n".encode(),
    )
    after = await (await client.get("/federation", headers=admin)).json()
    assert after["name"] == "Liên hiệp Hội tỉnh X" and after["organization_id"]


# --- 10.6 partners do not see staff usernames or internal fields ---------------------------


async def test_partners_do_not_see_who_among_staff_did_what(client, admin, signed):
    sheet = "Họ và tên,Email\nĐối Tác Đọc,doitac@example.vn\n"
    await post_file(client, "/members/imports", admin, sheet.encode(), wait="true")
    staff_view = (await (await client.get("/members", params={"q": "doi tac"}, headers=admin)).json())["items"][0]
    assert staff_view["created_by"] == "staff:lan" and staff_view["approved_by"] == "staff:lan"
    assert "import_job_id" not in staff_view

    partner = signed(sub="key:portal", roles=(), scopes=("members:read",))
    for view in (
        (await (await client.get("/members", params={"q": "doi tac"}, headers=partner)).json())["items"][0],
        await (await client.get(f"/members/{staff_view['id']}", headers=partner)).json(),
    ):
        assert view["full_name"] == "Đối Tác Đọc"
        assert not {"created_by", "approved_by", "rejected_by", "import_job_id"} & set(view)
        assert "staff:" not in str(view)


async def test_a_malformed_multipart_upload_is_a_clear_422(client, admin):
    boundary = "0d37f771f3609e9baf6be26654101f5f"  # a part with no headers at all: what schemathesis sent
    broken = f"--{boundary}\r\nTrue--{boundary}--\r\n".encode()
    resp = await post_file(client, "/members/imports", admin, broken, f"multipart/form-data; boundary={boundary}")
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    assert (await resp.json())["errors"][0]["field"] == "file"
