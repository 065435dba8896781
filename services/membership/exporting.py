"""Members as a table to open in Excel: an organisation's, or a search's, within the
caller's reach, under the same headers the import reads (so an export can be edited
and imported again). Cells are neutralised against formula injection by the one
exporter (shared/tabular.py, through the HTTP layer's table response)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.membership.catalogue import MESSAGES, reason
from services.membership.documents import ImportErrorDoc
from services.membership.endpoints import ExportQuery
from services.membership.finding import Finding
from services.membership.reach import Deps
from services.membership.spreadsheets import EXPORT_HEADERS, GENDER_TEXT
from shared.clock import today_local
from shared.identity import Identity


@dataclass
class Table:
    filename: str  # without extension
    sheet: str
    header: Sequence[str]
    rows: AsyncIterator[Sequence[Any]]


def export_row(number: int, member: Mapping[str, Any], codes_by_id: Mapping[str, str], lang: str) -> list[Any]:
    """One member as a spreadsheet row under EXPORT_HEADERS[lang]."""
    values = {
        "row_number": number,
        "full_name": member.get("full_name", ""),
        "date_of_birth": _born(member.get("date_of_birth")),
        "gender": GENDER_TEXT[lang].get(member.get("gender") or "", ""),
        "email": member.get("email") or "",
        "phone": member.get("phone") or "",
        "titles": ".".join(member.get("titles") or []),
        "expertise": member.get("expertise") or "",
        "organization_codes": _codes(member.get("organization_ids") or [], codes_by_id),
    }
    return [values[name] for name, _ in EXPORT_HEADERS[lang]]


def _codes(org_ids: list[str], codes_by_id: Mapping[str, str]) -> str:
    return "; ".join(codes_by_id[o] for o in org_ids if o in codes_by_id)


def _born(dob: Any) -> str:
    return date.fromisoformat(dob).strftime("%d/%m/%Y") if isinstance(dob, str) and dob else ""


class Exports:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.finding = Finding(deps)

    async def members(self, who: Identity, query: ExportQuery, lang: str) -> Table:
        f = await self.finding.filter(who, query)
        codes = {v: k for k, v in (await self.deps.orgs.codes()).items()}

        async def rows() -> AsyncIterator[Sequence[Any]]:
            number = 0
            async for member in self.finding.every(f):
                number += 1
                yield export_row(number, member, codes, lang)

        return Table(
            filename=f"members-{today_local().isoformat()}",
            sheet=MESSAGES.text("membership.sheet.members", lang),
            header=[text for _, text in EXPORT_HEADERS[lang]],
            rows=rows(),
        )

    async def rejected(self, who: Identity, job_id: str, lang: str) -> Table:
        """An import's rejected rows as written, each with its line and reasons, to fix
        and upload again (the import must be the caller's: 404 otherwise)."""
        await self.deps.import_job(who, job_id)
        lines = await _by_line(self.deps.imports.every_error(job_id))
        columns = list(dict.fromkeys(h for errors in lines.values() for e in errors for h in e.get("cells") or {}))

        async def rows() -> AsyncIterator[Sequence[Any]]:
            for line, errors in lines.items():
                cells = errors[0].get("cells") or {}
                why = "; ".join(reason(e["code"], lang, **(e.get("params") or {})) for e in errors)
                yield [line, *(cells.get(c) for c in columns), why]

        return Table(
            filename=f"rejected-{job_id[:8]}",
            sheet=MESSAGES.text("membership.sheet.rejected", lang),
            header=[
                MESSAGES.text("membership.column.line", lang),
                *columns,
                MESSAGES.text("membership.column.reason", lang),
            ],
            rows=rows(),
        )


async def _by_line(errors: AsyncIterator[ImportErrorDoc]) -> dict[int, list[ImportErrorDoc]]:
    lines: dict[int, list[ImportErrorDoc]] = {}
    async for error in errors:
        lines.setdefault(error["line"], []).append(error)
    return lines
