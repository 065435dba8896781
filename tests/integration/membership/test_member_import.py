"""Importing members as office staff have them: the sample file (UTF-8 with BOM,
comma-separated), the same saved with semicolons, and as XLSX, all give the same
288 members and the same 12 rejected rows with their line and reason; running a
file again creates nothing; an export imports back unchanged."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import aiohttp
import pytest
from openpyxl import Workbook, load_workbook

from services.membership.api import USE_CASES
from services.membership.app import create_app
from shared.identity import Identity
from tests.integration.membership.conftest import post_file
from tests.support import DATA, eventually

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPECTED = json.loads((DATA / "members_sample.expected.json").read_text(encoding="utf-8"))
WHY_TO_CODE = {
    "dup_email": "duplicate_email",
    "name": "name_missing",
    "email": "email_invalid",
    "phone": "phone_invalid",
    "date": "date_invalid",
}
WHY_TO_COLUMN = {
    "dup_email": "Email",
    "name": "Họ và tên",
    "email": "Email",
    "phone": "Điện thoại",
    "date": "Ngày sinh",
}


def sample_rows() -> list[list[str]]:
    with open(DATA / "members_sample.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def as_semicolons(bom: bool) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(sample_rows())
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def as_xlsx() -> bytes:
    """As Excel keeps it: real date cells where the text is a date, numbers as text."""
    workbook = Workbook()
    sheet = workbook.active
    for number, row in enumerate(sample_rows()):
        cells: list[object] = list(row)
        if number:
            cells[0] = int(row[0])
            try:
                cells[2] = datetime.strptime(row[2], "%d/%m/%Y")
            except ValueError:
                pass  # an impossible date stays text, as Excel leaves it
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


VARIANTS = {
    "csv-bom-comma": lambda: ((DATA / "members_sample.csv").read_bytes(), "text/csv"),
    "csv-semicolon-bom": lambda: (as_semicolons(bom=True), "text/csv"),
    "csv-semicolon-no-bom": lambda: (as_semicolons(bom=False), "text/csv"),
    "xlsx": lambda: (as_xlsx(), XLSX),
}


@pytest.mark.parametrize("variant", VARIANTS)
async def test_the_sample_imports_288_members_and_reports_the_12_bad_rows(client, admin, federation, variant):
    body, media = VARIANTS[variant]()
    resp = await post_file(client, "/members/imports", admin, body, media, wait="true")
    assert resp.status == 202, await resp.text()
    report = await resp.json()
    assert report["state"] == "done"
    assert (report["rows"], report["created"], report["rejected"]) == (300, 288, 12)
    assert [(e["line"], e["code"], e["column"]) for e in report["errors"]] == [
        (bad["line"], WHY_TO_CODE[bad["why"]], WHY_TO_COLUMN[bad["why"]]) for bad in EXPECTED["bad_rows"]
    ]
    # A duplicate names the member who has the email already (line 126 reuses line 3's).
    clash = next(e for e in report["errors"] if e["line"] == 126)
    first = await (await client.get("/members", params={"q": "tran.gia.dung1@yahoo.com.vn"}, headers=admin)).json()
    assert clash["existing_member_id"] == first["items"][0]["id"]
    assert "Trần Gia Dũng" in clash["reason"] and "Email đã thuộc về" in clash["reason"]

    again = await (await post_file(client, "/members/imports", admin, body, media, wait="true", lang="en")).json()
    assert (again["created"], again["updated"], again["unchanged"], again["rejected"]) == (0, 0, 288, 12)
    assert next(e for e in again["errors"] if e["line"] == 226)["reason"].startswith("Not a valid date: 31/02/1980")


async def test_imported_members_are_clean_and_placed_in_their_organisations(client, admin, federation):
    body = (DATA / "members_sample.csv").read_bytes()
    await post_file(client, "/members/imports", admin, body, wait="true")
    page = await (await client.get("/members", params={"q": "hoang.bao.giang0@gmail.com"}, headers=admin)).json()
    giang = page["items"][0]
    assert giang["full_name"] == "Hoàng Bảo Giang" and giang["date_of_birth"] == "1956-09-27"
    assert giang["phone"] == "+84369083016" and giang["gender"] == "female"
    assert giang["titles"] == ["PGS", "TS"] and giang["expertise"] == "Nông nghiệp"
    assert giang["organization_ids"] == [federation["HOI-KY-SU-XD"]] and giang["status"] == "active"
    assert giang["term"]["start"] <= giang["term"]["end"]


async def test_an_import_is_a_job_whose_progress_can_be_followed(client, admin, federation):
    resp = await post_file(client, "/members/imports", admin, (DATA / "members_sample.csv").read_bytes())
    assert resp.status == 202
    location = resp.headers["Location"]
    job_id = location.rsplit("/", 1)[1]

    async def finished():
        report = await (await client.get(f"/members/imports/{job_id}", headers=admin)).json()
        return report if report["state"] == "done" else None

    report = await eventually(finished, timeout=60, what="import finished")
    assert report["created"] == 288 and report["rows"] == 300
    recent = (await (await client.get("/members/imports", headers=admin)).json())["items"]
    assert [(j["id"], j["state"], j["created_by"]) for j in recent] == [(job_id, "done", "staff:lan")]
    page1 = await (await client.get(f"/members/imports/{job_id}", params={"limit": 5}, headers=admin)).json()
    page2 = await (
        await client.get(
            f"/members/imports/{job_id}",
            headers=admin,
            params={"limit": 50, "after_line": page1["errors_next_after_line"]},
        )
    ).json()
    assert [e["line"] for e in page1["errors"] + page2["errors"]] == [b["line"] for b in EXPECTED["bad_rows"]]


async def test_english_headers_and_a_file_without_names_are_understood(client, admin, federation):
    english = (
        "Full name,Date of birth,Gender,Email,Phone,Title/degree,Expertise,Organization code\n"
        "Lê Văn Tám,01/02/1990,Male,tam@example.vn,01223456789,ThS,Cơ khí,HOI-CO-KHI\n"
        "Mai Thị Hoa,1995-05-05,Female,hoa@example.vn,0912345678,XYZ,Y học,NO-SUCH-ORG\n"
    )
    report = await (await post_file(client, "/members/imports", admin, english.encode(), wait="true", lang="en")).json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert {(e["column"], e["code"]) for e in report["errors"]} == {
        ("Title/degree", "title_unknown"),
        ("Organization code", "organization_unknown"),
    }
    tam = (await (await client.get("/members", params={"q": "le van tam"}, headers=admin)).json())["items"][0]
    assert tam["phone"] == "+84773456789", "0122 was MobiFone's old prefix, now 077"

    resp = await post_file(
        client, "/members/imports", admin, b"Email,Phone\na@b.vn,0912345678\n", wait="true", lang="en"
    )
    failed = await resp.json()
    assert failed["state"] == "failed" and "full_name" in failed["error"]["reason"]


async def test_an_organisations_members_export_as_csv_and_xlsx_and_import_back_unchanged(client, admin, federation):
    await post_file(client, "/members/imports", admin, (DATA / "members_sample.csv").read_bytes(), wait="true")
    org = federation["HOI-Y-HOC"]
    listed = []
    after = None
    while True:
        params = {"organization_id": org, "limit": 200, **({"after": after} if after else {})}
        page = await (await client.get("/members", params=params, headers=admin)).json()
        listed += page["items"]
        after = page["next_after"]
        if not after:
            break

    resp = await client.get("/members/export", params={"organization_id": org}, headers=admin)
    assert resp.status == 200 and resp.content_type == "text/csv"
    exported = await resp.read()
    assert exported.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows[0] == sample_rows()[0], "the same headers as the sample, so it imports back"
    assert [r[1] for r in rows[1:]] == [m["full_name"] for m in listed], "in Vietnamese name order"
    assert all(r[8] == "HOI-Y-HOC" for r in rows[1:])

    back = await (await post_file(client, "/members/imports", admin, exported, wait="true")).json()
    assert (back["created"], back["updated"], back["rejected"], back["unchanged"]) == (0, 0, 0, len(listed))

    resp = await client.get("/members/export", params={"organization_id": org, "format": "xlsx"}, headers=admin)
    assert resp.status == 200 and resp.content_type == XLSX
    sheet = load_workbook(io.BytesIO(await resp.read()), read_only=True).worksheets[0]
    xrows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert xrows[0] == sample_rows()[0] and len(xrows) == len(listed) + 1
    back = await (await post_file(client, "/members/imports", admin, await resp.read(), XLSX, wait="true")).json()
    assert (back["created"], back["rejected"], back["unchanged"]) == (0, 0, len(listed))


async def test_a_second_file_updates_what_it_knows_and_refuses_what_belongs_to_others(client, admin, federation):
    header = "Họ và tên,Ngày sinh,Email,Điện thoại,Học hàm, học vị,Mã đơn vị\n".replace(
        "Học hàm, học vị", '"Học hàm, học vị"'
    )
    first = header + (
        "Âu Văn Một,01/01/1980,mot@x.vn,,KS,HOI-CO-KHI\n"
        "Âu Thị Hai,02/02/1982,,0912000002,,HOI-Y-HOC\n"
        "Tạ Văn Không,03/03/1983,,,,HOI-Y-HOC\n"
    )
    report = await (await post_file(client, "/members/imports", admin, first.encode(), wait="true")).json()
    assert (report["created"], report["rejected"]) == (3, 0)
    second = header + (
        "Âu Văn Một,01/01/1980,MOT@x.vn,,ThS,HOI-TIN-HOC\n"  # 2: same person, more to say
        "Âu Văn Một,01/01/1980,mot@x.vn,,,\n"  # 3: nothing new
        "Người Khác,01/01/1990,mot@x.vn,,,\n"  # 4: someone else's email
        "Người Lạ,01/01/1991,la@x.vn,0912 000 002,,\n"  # 5: someone else's phone
        "Âu Văn Một,01/01/1980,mot@x.vn,0912000002,,\n"  # 6: email and phone of two people
        "Tạ Văn Không,03/03/1983,,,,\n"  # 7: known by name and birth date
        "Mới Tinh,04/04/1984,moi@x.vn,,,HOI-Y-HOC\n"  # 8: new
        "Mới Tinh,04/04/1984,moi@x.vn,,,HOI-Y-HOC\n"
    )  # 9: the same new person again
    report = await (await post_file(client, "/members/imports", admin, second.encode(), wait="true")).json()
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (1, 1, 3, 3)
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (4, "duplicate_email"),
        (5, "duplicate_phone"),
        (6, "duplicate_phone"),
    ]
    mot = (await (await client.get("/members", params={"q": "mot@x.vn"}, headers=admin)).json())["items"][0]
    assert report["errors"][0]["existing_member_id"] == mot["id"]
    assert mot["titles"] == ["ThS"]
    assert mot["organization_ids"] == [federation["HOI-CO-KHI"], federation["HOI-TIN-HOC"]], "added, never removed"
    history = (await (await client.get(f"/members/{mot['id']}/history", headers=admin)).json())["items"]
    assert [h["action"] for h in history] == ["created", "imported"]
    assert history[1]["changes"]["titles"] == {"from": ["KS"], "to": ["ThS"]}


async def test_uploads_from_a_form_and_files_that_cannot_be_imported(
    aiohttp_client, settings, admin, federation, client
):
    form = aiohttp.FormData()
    form.add_field(
        "file", "Họ và tên,Email\nHồ Văn Form,form@x.vn\n".encode(), filename="hoi-vien.csv", content_type="text/csv"
    )
    report = await (await client.post("/members/imports", params={"wait": "true"}, data=form, headers=admin)).json()
    assert (report["created"], report["filename"]) == (1, "hoi-vien.csv")

    broken = await (
        await post_file(client, "/members/imports", admin, b"PK\x03\x04 not really a workbook", XLSX, wait="true")
    ).json()
    assert broken["state"] == "failed" and broken["error"]["code"] == "file_unreadable"
    empty = await post_file(client, "/members/imports", admin, b"")
    assert empty.status == 422
    json_body = await post_file(client, "/members/imports", admin, b"{}", "application/json")
    assert json_body.status == 415

    small = await aiohttp_client(create_app(settings.model_copy(update={"membership_import_max_bytes": 100})))
    resp = await post_file(small, "/members/imports", admin, b"x" * 1000)
    assert resp.status == 413 and (await resp.json())["max_bytes"] == 100
    assert (await post_file(small, "/members/imports", {}, b"x")).status == 401


async def test_an_import_whose_replica_stopped_shows_as_interrupted(client, admin, settings):
    imports = client.app[USE_CASES].imports
    job = await imports.create_job(Identity(sub="staff:lan", roles=("admin",)), filename="lost.csv", size=10)
    await imports.deps.imports.jobs.update_one({"_id": job["_id"]}, {"$set": {"state": "running", "heartbeat": 0.0}})
    report = await (await client.get(f"/members/imports/{job['_id']}", headers=admin)).json()
    assert report["state"] == "interrupted"
