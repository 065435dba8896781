"""Spreadsheets as Vietnamese offices save them: reading CSV and XLSX row by row,
recognising Vietnamese and English headers, and turning each row into a clean
member (or the reasons it cannot be one).

No I/O beyond reading the file it is given, one row at a time: a 50,000-row file
is never held whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError

from services.membership.members import (
    InvalidPhone,
    InvalidTitle,
    normalise_name,
    normalise_phone,
    parse_gender,
    parse_titles,
)
from services.membership.vietnamese import fold

XLSX_MAGIC = b"PK\x03\x04"

# Canonical column → the folded headers staff write for it (Vietnamese, then English).
MEMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "row_number": ("stt", "so thu tu", "no", "#"),
    "full_name": ("ho va ten", "ho ten", "ten hoi vien", "full name", "name", "full_name"),
    "date_of_birth": ("ngay sinh", "ngay thang nam sinh", "date of birth", "birth date", "dob", "date_of_birth"),
    "gender": ("gioi tinh", "gender", "sex"),
    "email": ("email", "e-mail", "thu dien tu", "dia chi email"),
    "phone": ("dien thoai", "so dien thoai", "sdt", "dtdd", "phone", "mobile", "phone number"),
    "titles": (
        "hoc ham, hoc vi",
        "hoc ham hoc vi",
        "hoc vi",
        "title",
        "titles",
        "title/degree",
        "degree",
        "academic title",
    ),
    "expertise": ("chuyen nganh", "linh vuc chuyen mon", "chuyen mon", "expertise", "field of expertise"),
    "organization_codes": (
        "ma don vi",
        "don vi",
        "organization",
        "organization code",
        "organization codes",
        "organisation",
        "organisation code",
    ),
    "language": ("ngon ngu", "language"),
}
# The headers an export writes (the sample's own), so an export can be re-imported.
EXPORT_HEADERS: dict[str, list[tuple[str, str]]] = {
    "vi": [
        ("row_number", "STT"),
        ("full_name", "Họ và tên"),
        ("date_of_birth", "Ngày sinh"),
        ("gender", "Giới tính"),
        ("email", "Email"),
        ("phone", "Điện thoại"),
        ("titles", "Học hàm, học vị"),
        ("expertise", "Chuyên ngành"),
        ("organization_codes", "Mã đơn vị"),
    ],
    "en": [
        ("row_number", "No"),
        ("full_name", "Full name"),
        ("date_of_birth", "Date of birth"),
        ("gender", "Gender"),
        ("email", "Email"),
        ("phone", "Phone"),
        ("titles", "Title/degree"),
        ("expertise", "Expertise"),
        ("organization_codes", "Organization code"),
    ],
}
GENDER_TEXT = {
    "vi": {"male": "Nam", "female": "Nữ", "other": "Khác"},
    "en": {"male": "Male", "female": "Female", "other": "Other"},
}
ORG_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("ma don vi", "ma", "code", "organization code"),
    "name": ("ten don vi", "ten", "name", "organization name"),
    "kind": ("loai", "loai don vi", "kind", "type"),
    "parent_code": ("don vi cap tren", "ma don vi cap tren", "cap tren", "parent", "parent code", "parent_code"),
    "contact_email": ("email", "email lien he", "contact email"),
    "contact_phone": ("dien thoai", "so dien thoai", "contact phone", "phone"),
    "address": ("dia chi", "address"),
}
ORG_KINDS = {
    "federation": "federation",
    "lien hiep": "federation",
    "association": "association",
    "hoi": "association",
    "hoi thanh vien": "association",
    "centre": "centre",
    "center": "centre",
    "trung tam": "centre",
    "branch": "branch",
    "club": "branch",
    "chi hoi": "branch",
    "cau lac bo": "branch",
    "enterprise": "enterprise",
    "sme": "enterprise",
    "doanh nghiep": "enterprise",
}

_EMAIL = TypeAdapter(EmailStr)
_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")


class UnreadableFile(ValueError):
    """The file is neither CSV nor XLSX, or lacks a required column."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(f"{code}: {value}")
        self.code, self.value = code, value


@dataclass
class RowError:
    line: int
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedRow:
    line: int
    fields: dict[str, Any] | None
    errors: list[RowError]


# --- reading files ----------------------------------------------------------------


def _header_key(text: Any) -> str:
    return fold(str(text or "")).strip(" :*")


def map_headers(headers: list[Any], columns: Mapping[str, tuple[str, ...]]) -> dict[int, tuple[str, str]]:
    """Column index → (canonical field, header as written); unknown headers are ignored."""
    lookup = {alias: name for name, aliases in columns.items() for alias in aliases}
    mapped: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    for i, header in enumerate(headers):
        name = lookup.get(_header_key(header))
        if name and name not in taken:
            mapped[i] = (name, str(header).strip())
            taken.add(name)
    return mapped


def _text_stream(path: str) -> io.TextIOBase:
    """UTF-8 (with or without BOM), or Windows-1258 as Excel's plain "CSV" saves Vietnamese."""
    with open(path, "rb") as probe:
        head = probe.read(65536)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1258"
    return open(path, encoding=encoding, newline="", errors="replace")


def _csv_rows(path: str) -> Iterator[tuple[int, list[Any]]]:
    with _text_stream(path) as stream:
        first = stream.readline()
        delimiter = (
            ";" if first.count(";") > first.count(",") else ("\t" if first.count("\t") > first.count(",") else ",")
        )
        yield 1, next(csv.reader([first], delimiter=delimiter), [])
        reader = csv.reader(stream, delimiter=delimiter)
        for row in reader:
            yield reader.line_num + 1, row


def _xlsx_rows(path: str) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # imported where needed: a heavy module

    with open(path, "rb") as stream:  # a file object: openpyxl judges a path by its extension
        try:
            workbook = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:
            raise UnreadableFile("file_unreadable", type(exc).__name__) from None
        try:
            sheet = workbook.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(row)
        finally:
            workbook.close()


def read_rows(path: str) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of every row, the header first; CSV or XLSX by content."""
    with open(path, "rb") as f:
        magic = f.read(4)
    return _xlsx_rows(path) if magic == XLSX_MAGIC else _csv_rows(path)


def read_records(
    path: str, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, tuple[str, Any]]]]:
    """(line, {field: (header, raw value)}) for every non-empty row after the header."""
    rows = read_rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise UnreadableFile("columns_missing", ", ".join(required)) from None
    mapping = map_headers(header, columns)
    missing = [name for name in required if name not in {f for f, _ in mapping.values()}]
    if missing:
        raise UnreadableFile("columns_missing", ", ".join(missing))
    for line, cells in rows:
        if not any(c not in (None, "") and str(c).strip() for c in cells):
            continue
        yield (
            line,
            {
                name: (header_text, _nfc(cells[i]) if i < len(cells) else None)
                for i, (name, header_text) in mapping.items()
            },
        )


def _nfc(value: Any) -> Any:
    # Windows-1258 text decodes with combining tone marks; compare and store composed.
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


# --- cleaning one row -------------------------------------------------------------


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()


def parse_date(raw: Any) -> date:
    """dd/mm/yyyy (also with . or -), yyyy-mm-dd, or a date cell; ValueError otherwise."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = _text(raw)
    match = _DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    match = _ISO_DATE.match(text)
    if match:
        return date(*(int(g) for g in match.groups()))
    raise ValueError(text)


_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


@lru_cache(maxsize=4096)
def _domain(domain: str) -> str | None:
    """A domain as the full validator accepts it (lower-cased), or None; a file has few."""
    try:
        return _EMAIL.validate_python(f"a@{domain}").rsplit("@", 1)[1].lower()
    except ValidationError:
        return None


def clean_email(text: str) -> str:
    """A valid email address, lower-cased; ValueError otherwise. Plain addresses take a
    fast path (the domain checked once per file); anything unusual the full validator."""
    local, at, domain = text.rpartition("@")
    if at and len(text) <= 254 and len(local) <= 64 and _LOCAL_PART.match(local):
        checked = _domain(domain)
        if checked is None:
            raise ValueError(text)
        return f"{local}@{checked}".lower()
    try:
        return _EMAIL.validate_python(text).lower()
    except ValidationError:
        raise ValueError(text) from None


def parse_member_row(
    line: int,
    record: Mapping[str, tuple[str, Any]],
    orgs_by_code: Mapping[str, str],
    today: date,
    allowed_orgs: set[str] | None = None,
) -> ParsedRow:
    """A clean member from one spreadsheet row, or every reason it cannot be one."""
    errors: list[RowError] = []
    out: dict[str, Any] = {}

    def err(name: str, code: str, **params: Any) -> None:
        errors.append(RowError(line, record[name][0], code, params))

    def raw(name: str) -> Any:
        return record[name][1] if name in record else None

    name = normalise_name(_text(raw("full_name")))
    if not name:
        err("full_name", "name_missing")
    elif len(name) > 200:
        err("full_name", "name_too_long")
    out["full_name"] = name

    email = _text(raw("email"))
    if email:
        try:
            out["email"] = clean_email(email)
        except ValueError:
            err("email", "email_invalid", value=email)

    phone = _text(raw("phone"))
    if phone:
        try:
            out["phone"] = normalise_phone(phone)
        except InvalidPhone:
            err("phone", "phone_invalid", value=phone)

    dob = raw("date_of_birth")
    if _text(dob):
        try:
            born = parse_date(dob)
        except ValueError:
            err("date_of_birth", "date_invalid", value=_text(dob))
        else:
            if born > today:
                err("date_of_birth", "date_future", value=born.strftime("%d/%m/%Y"))
            else:
                out["date_of_birth"] = born

    gender = _text(raw("gender"))
    if gender:
        parsed = parse_gender(gender)
        if parsed is None:
            err("gender", "gender_unknown", value=gender)
        else:
            out["gender"] = parsed

    titles = _text(raw("titles"))
    if titles:
        try:
            out["titles"] = parse_titles(titles)
        except InvalidTitle:
            err("titles", "title_unknown", value=titles)

    expertise = normalise_name(_text(raw("expertise")))
    if expertise:
        out["expertise"] = expertise[:200]

    language = fold(_text(raw("language")))
    if language:
        lang = {"vi": "vi", "tieng viet": "vi", "vietnamese": "vi", "en": "en", "tieng anh": "en", "english": "en"}.get(
            language
        )
        if lang is None:
            err("language", "language_unknown", value=_text(raw("language")))
        else:
            out["language"] = lang

    org_ids: list[str] = []
    for code in re.split(r"[;,|\s]+", _text(raw("organization_codes")).upper()):
        if not code:
            continue
        org_id = orgs_by_code.get(code)
        if org_id is None:
            err("organization_codes", "organization_unknown", value=code)
        elif allowed_orgs is not None and org_id not in allowed_orgs:
            err("organization_codes", "organization_forbidden", value=code)
        elif org_id not in org_ids:
            org_ids.append(org_id)
    out["organization_ids"] = org_ids

    return ParsedRow(line, None if errors else out, errors)


def export_row(number: int, member: Mapping[str, Any], codes_by_id: Mapping[str, str], lang: str) -> list[Any]:
    """One member as a spreadsheet row under EXPORT_HEADERS[lang]."""
    dob = member.get("date_of_birth")
    born = date.fromisoformat(dob).strftime("%d/%m/%Y") if isinstance(dob, str) and dob else ""
    values = {
        "row_number": number,
        "full_name": member.get("full_name", ""),
        "date_of_birth": born,
        "gender": GENDER_TEXT[lang].get(member.get("gender") or "", ""),
        "email": member.get("email") or "",
        "phone": member.get("phone") or "",
        "titles": ".".join(member.get("titles") or []),
        "expertise": member.get("expertise") or "",
        "organization_codes": "; ".join(
            codes_by_id[o] for o in member.get("organization_ids") or [] if o in codes_by_id
        ),
    }
    return [values[name] for name, _ in EXPORT_HEADERS[lang]]
