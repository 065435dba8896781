"""The tables the office opens in Excel: score sheets (per judge), each entry with
every judge's scores, the ranking with tiers and why, and the dossier of entries
forwarded to the national contest. Headers in the reader's language, Vietnamese
first; every cell goes through shared/tabular.py (no formula ever runs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.contests import views
from services.contests.catalogue import MESSAGES, label
from services.contests.endpoints import RankingQuery
from services.contests.ranking import Ranking
from services.contests.reach import Deps
from shared.clock import local_time_text


@dataclass
class Table:
    filename: str
    sheet: str
    header: list[str]
    rows: list[list[Any]]


class Exports:
    def __init__(self, deps: Deps, ranking: Ranking) -> None:
        self.deps = deps
        self.ranking = ranking

    async def score_sheets(self, edition_id: str, judge: str | None, lang: str) -> Table:
        edition = await self.deps.edition(edition_id)
        codes, names = _criteria(edition, lang)
        query: dict[str, Any] = {"edition_id": edition_id, "status": ["assigned", "submitted", "reopened"]}
        if judge:
            query["judge"] = judge
        sheets = sorted(await self.deps.sheets.find(**query), key=lambda s: (s["judge"], s["entry_code"]))
        entries = await self.deps.entries.many({s["entry_id"] for s in sheets}, {"title": 1, "field": 1})
        rows = [
            [
                s["judge"],
                s["entry_code"],
                entries[s["entry_id"]]["title"],
                _field(edition, s["field"], lang),
                *(views.points(s["scores"].get(c)) for c in codes),
                views.points(sum(s["scores"].values())) if s["scores"] else None,
                s["status"],
                local_time_text(s["submitted_at"]) if s.get("submitted_at") and s["status"] == "submitted" else None,
                s.get("comment"),
            ]
            for s in sheets
            if s["entry_id"] in entries
        ]
        header = _header("contests.export.sheets", lang, names)
        suffix = f"-{judge}" if judge else ""
        return Table(f"phieu-cham-{edition['code']}{suffix}", "Phiếu chấm", header, rows)

    async def entry_scores(self, edition_id: str, lang: str) -> Table:
        edition = await self.deps.edition(edition_id)
        codes, names = _criteria(edition, lang)
        placements, _ = await self.ranking.current(edition)
        by_entry: dict[str, list[Any]] = defaultdict(list)
        for s in await self.deps.sheets.find(edition_id=edition_id, status="submitted"):
            by_entry[s["entry_id"]].append(s)
        rows: list[list[Any]] = []
        aggregate = MESSAGES.text("contests.export.aggregate", lang)
        for p in sorted(placements, key=lambda p: p["code"]):
            head = [p["code"], p["title"], _field(edition, p["field"], lang)]
            for s in sorted(by_entry[p["entry_id"]], key=lambda s: s["judge"]):
                rows.append(
                    [
                        *head,
                        s["judge"],
                        *(views.points(s["scores"].get(c)) for c in codes),
                        views.points(sum(s["scores"].values())),
                    ]
                )
            rows.append([*head, aggregate, *(p["criteria_scores"].get(c) for c in codes), p["judges_score"]])
        return Table(
            f"diem-tung-ho-so-{edition['code']}",
            "Điểm từng hồ sơ",
            _header("contests.export.entry_scores", lang, names),
            rows,
        )

    async def ranking_table(self, edition_id: str, lang: str) -> Table:
        view = await self.ranking.view(edition_id, RankingQuery(), lang)
        edition = await self.deps.edition(edition_id)
        yes = MESSAGES.text("contests.export.yes", lang)
        rows = [
            [
                i["group"],
                i["rank"],
                i["code"],
                i["title"],
                _field(edition, i["field"], lang),
                i["sheets_submitted"],
                i["judges_score"],
                i["votes"],
                i["community_points"],
                i["final_score"],
                i["spread"],
                i["stddev"],
                yes if i["look_again"] else None,
                label("tier", i["tier_by_rules"])[lang] if i["tier_by_rules"] else None,
                i["tier_label"][lang] if i["tier"] else None,
                i["prize_vnd"] or None,
                (i["override"] or {}).get("reason"),
                "; ".join(i["explanation"]),
            ]
            for i in view["items"]
        ]
        header = MESSAGES.text("contests.export.ranking", lang).split("|")
        return Table(f"xep-hang-{edition['code']}", "Xếp hạng", header, rows)

    async def forwarded(self, edition_id: str, lang: str) -> Table:
        edition = await self.deps.edition(edition_id)
        rows = []
        async for e in self.deps.entries.stream(edition_id, ["forwarded"], {"_outbox": 0}):
            authors = [a for a in e["entrant"]["authors"] if not a.get("erased")]
            contact: Mapping[str, Any] = next((a for a in authors if a.get("email") or a.get("phone")), {})
            result: Mapping[str, Any] = e.get("result") or {}
            rows.append(
                [
                    e["code"],
                    e["title"],
                    _field(edition, e["field"], lang),
                    label("tier", result.get("tier"))[lang],
                    views.points(result.get("final")),
                    ", ".join(a["full_name"] for a in authors),
                    e["entrant"].get("organization_name") or e["entrant"].get("organization_id"),
                    contact.get("email"),
                    contact.get("phone"),
                    e.get("applied_since"),
                    e.get("application_place"),
                    e["summary"],
                    "; ".join(
                        f"{d['name']} ({views.API}/contests/entries/{e['_id']}/documents/{k})"
                        for k, d in sorted(e["documents"].items())
                    ),
                    local_time_text(e["forwarding"]["at"]) if e.get("forwarding") else None,
                ]
            )
        header = MESSAGES.text("contests.export.forwarded", lang).split("|")
        return Table(f"ho-so-gui-toan-quoc-{edition['code']}", "Hồ sơ gửi toàn quốc", header, rows)


def _criteria(edition: Mapping[str, Any], lang: str) -> tuple[list[str], list[str]]:
    codes = [c["code"] for c in edition["criteria"]]
    names = [c["name"].get(lang) or c["name"]["vi"] for c in edition["criteria"]]
    return codes, names


def _header(key: str, lang: str, criteria: list[str]) -> list[str]:
    out: list[str] = []
    for part in MESSAGES.text(key, lang, criteria="{criteria}").split("|"):
        out.extend(criteria if part == "{criteria}" else [part])
    return out


def _field(edition: Mapping[str, Any], code: str, lang: str) -> str:
    name = views.field_label(edition, code)
    return name.get(lang) or name["vi"] or code
