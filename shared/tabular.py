"""Tables people open in Excel: CSV and XLSX exports, one implementation.

Cells that people typed (names, titles, notes) can start with `=`, `+`, `-` or `@`,
which a spreadsheet would run as a formula (`=HYPERLINK(...)`: CSV/formula
injection). Every export goes through here, so every cell is neutralised:
- CSV: such a text is prefixed with an apostrophe (OWASP's advice), which Excel
  hides; an international phone number (`+84912345678`) is left as it is;
- XLSX: such a text is written as a text cell, so Excel shows it and never runs it,
  and the value round-trips exactly.
CSV starts with a BOM so Excel reads Vietnamese correctly.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

CSV_MEDIA = "text/csv"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"csv": CSV_MEDIA, "xlsx": XLSX_MEDIA}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE = re.compile(r"\+\d{6,15}")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def risky(value: Any) -> bool:
    """Would a spreadsheet read this text as a formula?"""
    return isinstance(value, str) and value.startswith(_FORMULA_START) and not _PHONE.fullmatch(value)


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "x" if value else ""
    return "'" + value if risky(value) else value


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], rows_per_chunk: int = 500) -> Iterator[bytes]:
    """A CSV file (UTF-8 with BOM) in chunks of `rows_per_chunk` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([csv_cell(h) for h in header])
    for number, row in enumerate(rows, 1):
        writer.writerow([csv_cell(v) for v in row])
        if number % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return b"".join(csv_chunks(header, rows))


def sheet_name(name: str) -> str:
    """A name Excel accepts for a sheet (31 characters, none of []:*?/\\)."""
    return _SHEET_NAME_BAD.sub(" ", name).strip()[:31] or "Sheet1"


class XlsxWriter:
    """An XLSX workbook written row by row (openpyxl's write-only mode, so memory
    stays flat for 50,000 rows), then saved to a path or bytes."""

    def __init__(self, sheet: str, header: Sequence[str]) -> None:
        from openpyxl import Workbook  # imported here: only processes that export load it

        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(sheet_name(sheet))
        self._sheet.append(list(header))

    def append(self, row: Sequence[Any]) -> None:
        self._sheet.append([self._cell(v) for v in row])

    def _cell(self, value: Any) -> Any:
        if not risky(value):
            return value
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell

    def save(self, target: str | io.BytesIO) -> None:
        self._book.save(target)


def to_xlsx(sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    writer = XlsxWriter(sheet, header)
    for row in rows:
        writer.append(row)
    out = io.BytesIO()
    writer.save(out)
    return out.getvalue()
