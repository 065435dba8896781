import csv
import io
import unicodedata
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from services.membership.catalogue import ROW_REASONS as CATALOGUE
from services.membership.catalogue import reason as render
from services.membership.spreadsheets import (
    EXPORT_HEADERS,
    MEMBER_COLUMNS,
    UnreadableFile,
    map_headers,
    parse_date,
    parse_member_row,
    read_records,
)

ORGS = {"HOI-TIN-HOC": "o1", "HOI-Y-HOC": "o2"}
TODAY = date(2026, 11, 27)


def record(**cells):
    names = dict(EXPORT_HEADERS["vi"])
    return {k: (names[k], v) for k, v in cells.items()}


def test_vietnamese_and_english_headers_map_to_the_same_fields():
    vi = map_headers(
        [
            "STT",
            "Họ và tên",
            "Ngày sinh",
            "Giới tính",
            "Email",
            "Điện thoại",
            "Học hàm, học vị",
            "Chuyên ngành",
            "Mã đơn vị",
            "Ghi chú",
        ],
        MEMBER_COLUMNS,
    )
    en = map_headers(
        ["Full name", "Date of birth", "Gender", "E-mail", "Phone", "Title/degree", "Expertise", "Organization code"],
        MEMBER_COLUMNS,
    )
    assert {f for f, _ in vi.values()} - {"row_number"} == {f for f, _ in en.values()}
    assert 9 not in vi, "unknown columns are ignored"
    assert map_headers(["HỌ VÀ TÊN", "ho ten"], MEMBER_COLUMNS) == {0: ("full_name", "HỌ VÀ TÊN")}


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ("27/09/1956", date(1956, 9, 27)),
        ("7/9/1956", date(1956, 9, 7)),
        ("27-09-1956", date(1956, 9, 27)),
        ("27.09.1956", date(1956, 9, 27)),
        ("1956-09-27", date(1956, 9, 27)),
        (datetime(1956, 9, 27), date(1956, 9, 27)),
    ],
)
def test_dates_as_staff_write_them(raw, parsed):
    assert parse_date(raw) == parsed


@pytest.mark.parametrize("raw", ["31/02/1980", "1980", "09/27/1956", "hôm qua"])
def test_impossible_dates_are_refused(raw):
    with pytest.raises(ValueError):
        parse_date(raw)


def test_a_good_row_becomes_a_clean_member():
    row = parse_member_row(
        2,
        record(
            full_name=" Hoàng  Bảo Giang ",
            date_of_birth="27/09/1956",
            gender="Nữ",
            email="Hoang@Gmail.com",
            phone="84369083016",
            titles="PGS.TS",
            expertise="Nông nghiệp",
            organization_codes="hoi-tin-hoc; HOI-Y-HOC",
        ),
        ORGS,
        TODAY,
    )
    assert row.errors == []
    assert row.fields == {
        "full_name": "Hoàng Bảo Giang",
        "email": "hoang@gmail.com",
        "phone": "+84369083016",
        "date_of_birth": date(1956, 9, 27),
        "gender": "female",
        "titles": ["PGS", "TS"],
        "expertise": "Nông nghiệp",
        "organization_ids": ["o1", "o2"],
    }


def test_a_bad_row_names_every_column_at_fault():
    row = parse_member_row(
        7,
        record(
            full_name="   ",
            date_of_birth="31/02/1980",
            email="a at b",
            phone="12345",
            gender="?",
            titles="Dr",
            organization_codes="NOPE",
        ),
        ORGS,
        TODAY,
    )
    assert row.fields is None
    assert [(e.line, e.column, e.code) for e in row.errors] == [
        (7, "Họ và tên", "name_missing"),
        (7, "Email", "email_invalid"),
        (7, "Điện thoại", "phone_invalid"),
        (7, "Ngày sinh", "date_invalid"),
        (7, "Giới tính", "gender_unknown"),
        (7, "Học hàm, học vị", "title_unknown"),
        (7, "Mã đơn vị", "organization_unknown"),
    ]
    forbidden = parse_member_row(3, record(full_name="A", organization_codes="HOI-Y-HOC"), ORGS, TODAY, {"o1"})
    assert [e.code for e in forbidden.errors] == ["organization_forbidden"]


def test_every_reason_reads_in_vietnamese_and_english():
    for code, texts in CATALOGUE.items():
        assert texts["vi"] and texts["en"], code
    assert render("phone_invalid", "vi", value="12345") == "Số điện thoại không hợp lệ: 12345"
    assert render("phone_invalid", "en", value="12345") == "Not a valid phone number: 12345"


def write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


ROWS = [
    ["Họ và tên", "Ngày sinh", "Email"],
    ["Lê Văn Một", "01/02/1990", "mot@x.vn"],
    ["", "", ""],
    ["Lê Thị Hai", "03/04/1991", "hai@x.vn"],
]


def windows_1258(text: str) -> bytes:
    """As Excel's plain "CSV" saves Vietnamese: letters precomposed, tone marks combining."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def as_csv(delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(ROWS)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        as_csv(",").encode("utf-8"),
        ("\ufeff" + as_csv(",")).encode("utf-8"),
        as_csv(";").encode("utf-8"),
        ("\ufeff" + as_csv(";")).encode("utf-8"),
        windows_1258(as_csv(",")),
    ],
    ids=["utf8", "utf8-bom", "semicolon", "semicolon-bom", "windows-1258"],
)
def test_csv_as_excel_saves_it_reads_row_by_row_with_line_numbers(tmp_path, data):
    records = list(read_records(write(tmp_path, "f.csv", data), MEMBER_COLUMNS, ("full_name",)))
    assert [(line, r["full_name"][1]) for line, r in records] == [(2, "Lê Văn Một"), (4, "Lê Thị Hai")]


def test_xlsx_reads_the_first_sheet_with_date_cells(tmp_path):
    workbook = Workbook()
    for row in ROWS:
        workbook.active.append(row)
    workbook.active["B2"] = datetime(1990, 2, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    records = list(read_records(write(tmp_path, "upload", buffer.getvalue()), MEMBER_COLUMNS, ("full_name",)))
    assert [(line, r["date_of_birth"][1]) for line, r in records] == [(2, datetime(1990, 2, 1)), (4, "03/04/1991")]


def test_a_file_without_a_name_column_is_refused_whole(tmp_path):
    with pytest.raises(UnreadableFile) as err:
        list(read_records(write(tmp_path, "f.csv", b"Email\na@b.vn\n"), MEMBER_COLUMNS, ("full_name",)))
    assert err.value.code == "columns_missing"
