"""Member and organisation spreadsheets as Vietnamese offices save them: reading CSV
and XLSX row by row, recognising Vietnamese and English headers, and turning each
row into a clean member (or the reasons it cannot be one). Membership's own: the
tables it writes go through shared/tabular.py.

No I/O beyond reading the file it is given, one row at a time: a 50,000-row file
is never held whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError

from services.membership.endpoints import InvalidTitle, parse_titles
from services.membership.members import parse_gender
from shared.text import InvalidPhone, fold, normalise_name, normalise_phone

XLSX_MAGIC = b"PK\x03\x04"
# An XLSX file is a zip: bounded before any parser sees it, so a small upload cannot
# unpack into gigabytes (a "shared strings bomb": 87 KiB → 216 MiB).
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000

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
    cells: dict[str, Any] = field(default_factory=dict)  # the row as written: header → value


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


class TooBig(UnreadableFile):
    """A workbook that unpacks beyond the bounds: refused before it is parsed."""

    def __init__(self, code: str, limit: int) -> None:
        super().__init__(code, str(limit))
        self.limit = limit


def check_workbook(path: str) -> None:
    """Refuse an XLSX whose parts unpack beyond MAX_UNPACKED_BYTES, or whose shared
    strings number more than MAX_SHARED_STRINGS; a CSV passes as it is."""
    with open(path, "rb") as f:
        if f.read(4) != XLSX_MAGIC:
            return
    try:
        with zipfile.ZipFile(path) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise TooBig("file_too_large_unpacked", MAX_UNPACKED_BYTES)
            names = [n for n in archive.namelist() if n.lower().endswith("sharedstrings.xml")]
            for name in names:
                _count_strings(archive, name)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        return  # not a readable zip: the reader says so in the job's report


def _count_strings(archive: zipfile.ZipFile, name: str) -> None:
    """Count `<si>` elements as the part unpacks (never more than the bound allows)."""
    count, tail, unpacked = 0, b"", 0
    with archive.open(name) as part:
        while chunk := part.read(1 << 20):
            unpacked += len(chunk)
            if unpacked > MAX_UNPACKED_BYTES:  # a size the archive understated
                raise TooBig("file_too_large_unpacked", MAX_UNPACKED_BYTES)
            window = tail + chunk  # an element split between two reads is counted once, here
            count += window.count(b"<si>") + window.count(b"<si ")
            if count > MAX_SHARED_STRINGS:
                raise TooBig("too_many_strings", MAX_SHARED_STRINGS)
            tail = window[-3:]


def count_rows(path: str) -> int | None:
    """Rows after the header (non-empty ones for CSV; as the workbook declares for XLSX,
    None when it declares nothing): known before the import starts, for progress."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == XLSX_MAGIC:
        return _xlsx_row_count(path)
    rows = _csv_rows(path)
    next(rows, None)
    return sum(1 for _, cells in rows if any(str(c).strip() for c in cells))


def _xlsx_row_count(path: str) -> int | None:
    from openpyxl import load_workbook

    try:
        with open(path, "rb") as stream:
            workbook = load_workbook(stream, read_only=True, data_only=True)
            try:
                rows = workbook.worksheets[0].max_row
            finally:
                workbook.close()
    except Exception:
        return None
    return max(rows - 1, 0) if rows else None


def read_rows(path: str) -> Iterator[tuple[int, list[Any]]]:
    """(line number, cells) of every row, the header first; CSV or XLSX by content."""
    with open(path, "rb") as f:
        magic = f.read(4)
    return _xlsx_rows(path) if magic == XLSX_MAGIC else _csv_rows(path)


def read_records(
    path: str, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, tuple[str, Any]]]]:
    """(line, {field: (header, raw value)}) for every non-empty row after the header, in
    the file's column order; columns we do not know are kept too, under `column:<n>`,
    so a rejected row can be given back whole."""
    rows = read_rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise UnreadableFile("columns_missing", ", ".join(required)) from None
    mapping = map_headers(header, columns)
    missing = [name for name in required if name not in {f for f, _ in mapping.values()}]
    if missing:
        raise UnreadableFile("columns_missing", ", ".join(missing))
    names = _column_names(header, mapping)
    for line, cells in rows:
        if not _blank(cells):
            yield line, {name: (text, _cell(cells, i)) for i, (name, text) in enumerate(names)}


def _column_names(header: list[Any], mapping: dict[int, tuple[str, str]]) -> list[tuple[str, str]]:
    """(field, header) of every column; columns we do not know as `column:<n>`."""
    return [mapping.get(i) or (f"column:{i}", str(h or "").strip()) for i, h in enumerate(header)]


def _blank(cells: list[Any]) -> bool:
    return not any(c not in (None, "") and str(c).strip() for c in cells)


def _cell(cells: list[Any], index: int) -> Any:
    return _nfc(cells[index]) if index < len(cells) else None


def cells_of(record: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    """A record as it was written: header → value, in the file's column order."""
    return {header: value for header, value in record.values() if header}


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


class Refused(ValueError):
    """One cell cannot be used: the reason's code and parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def _name(raw: Any) -> str:
    name = normalise_name(_text(raw))
    if not name:
        raise Refused("name_missing")
    if len(name) > 200:
        raise Refused("name_too_long")
    return name


def _email(raw: Any) -> str | None:
    text = _text(raw)
    try:
        return clean_email(text) if text else None
    except ValueError:
        raise Refused("email_invalid", value=text) from None


def _phone(raw: Any) -> str | None:
    text = _text(raw)
    try:
        return normalise_phone(text) if text else None
    except InvalidPhone:
        raise Refused("phone_invalid", value=text) from None


def _birth(raw: Any, today: date) -> date | None:
    if not _text(raw):
        return None
    try:
        born = parse_date(raw)
    except ValueError:
        raise Refused("date_invalid", value=_text(raw)) from None
    if born > today:
        raise Refused("date_future", value=born.strftime("%d/%m/%Y"))
    return born


def _gender(raw: Any) -> str | None:
    text = _text(raw)
    parsed = parse_gender(text) if text else None
    if text and parsed is None:
        raise Refused("gender_unknown", value=text)
    return parsed


def _titles(raw: Any) -> list[str] | None:
    text = _text(raw)
    try:
        return parse_titles(text) if text else None
    except InvalidTitle:
        raise Refused("title_unknown", value=text) from None


def _expertise(raw: Any) -> str | None:
    return normalise_name(_text(raw))[:200] or None


_LANGUAGES = {"vi": "vi", "tieng viet": "vi", "vietnamese": "vi", "en": "en", "tieng anh": "en", "english": "en"}


def _language(raw: Any) -> str | None:
    folded = fold(_text(raw))
    if folded and folded not in _LANGUAGES:
        raise Refused("language_unknown", value=_text(raw))
    return _LANGUAGES.get(folded)


def _organizations(
    raw: Any, orgs_by_code: Mapping[str, str], allowed: Collection[str] | None
) -> tuple[list[str], list[Refused]]:
    """The organisations a row names, and each code that cannot be used."""
    org_ids: list[str] = []
    refused: list[Refused] = []
    for code in filter(None, re.split(r"[;,|\s]+", _text(raw).upper())):
        org_id = orgs_by_code.get(code)
        if org_id is None:
            refused.append(Refused("organization_unknown", value=code))
        elif allowed is not None and org_id not in allowed:
            refused.append(Refused("organization_forbidden", value=code))
        elif org_id not in org_ids:
            org_ids.append(org_id)
    return org_ids, refused


def parse_member_row(
    line: int,
    record: Mapping[str, tuple[str, Any]],
    orgs_by_code: Mapping[str, str],
    today: date,
    allowed_orgs: Collection[str] | None = None,
) -> ParsedRow:
    """A clean member from one spreadsheet row, or every reason it cannot be one."""
    errors: list[RowError] = []
    out: dict[str, Any] = {}

    def raw(name: str) -> Any:
        return record[name][1] if name in record else None

    def refuse(name: str, refused: Refused) -> None:
        errors.append(RowError(line, record[name][0], refused.code, refused.params))

    cleaners = {
        "full_name": _name,
        "email": _email,
        "phone": _phone,
        "date_of_birth": lambda v: _birth(v, today),
        "gender": _gender,
        "titles": _titles,
        "expertise": _expertise,
        "language": _language,
    }
    for name, clean in cleaners.items():
        try:
            value = clean(raw(name))
        except Refused as refused:
            refuse(name, refused)
            continue
        if value is not None or name == "full_name":
            out[name] = value
    out["organization_ids"], refusals = _organizations(raw("organization_codes"), orgs_by_code, allowed_orgs)
    for refusal in refusals:
        refuse("organization_codes", refusal)
    return ParsedRow(line, None if errors else out, errors, cells_of(record))
