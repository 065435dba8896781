"""Judges scoring, independently.

A judge sees only the entries assigned to them, saves a sheet as often as they like
during final scoring, and submits it once; a submitted sheet can be reopened only
by the board, with the reason recorded. Other judges' scores on an entry stay
hidden from a judge until their own sheet is submitted (and never carry names).
When every judge assigned to an entry has submitted, the entry is scored and its
entrants are told (entry.scored).
"""

from __future__ import annotations

from typing import Any

from services.contests import announcing, lifecycle, rulebook, timeline, views
from services.contests.catalogue import MESSAGES
from services.contests.editions import hundredths
from services.contests.endpoints import SheetIn
from services.contests.reach import Deps, not_found_entry, username
from services.contests.records import EditionDoc, EntryDoc, SheetDoc
from shared.clock import to_local
from shared.contracts import EntryScored
from shared.errors import Conflict, NotFound
from shared.identity import Identity

OPEN = ["assigned", "reopened"]
LIVE = ["assigned", "submitted", "reopened"]


class Judging:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def assigned(self, who: Identity, edition_id: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"judge": username(who), "status": LIVE}
        if edition_id:
            query["edition_id"] = edition_id
        sheets = await self.deps.sheets.find(**query)
        entries = await self.deps.entries.many([s["entry_id"] for s in sheets], {"title": 1, "code": 1, "field": 1})
        return {
            "items": [
                {
                    "entry_id": s["entry_id"],
                    "code": s["entry_code"],
                    "edition_id": s["edition_id"],
                    "title": entries[s["entry_id"]]["title"],
                    "field": s["field"],
                    "sheet_status": s["status"],
                    "total": views.points(sum(s["scores"].values())) if s["scores"] else None,
                }
                for s in sorted(sheets, key=lambda s: s["entry_code"])
                if s["entry_id"] in entries
            ]
        }

    async def view(self, entry_id: str, who: Identity) -> dict[str, Any]:
        sheet = await self._own_sheet(entry_id, who)
        entry = await self.deps.entries.get(entry_id)
        if entry is None:
            raise not_found_entry()
        return await self._view(sheet, entry, await self.deps.edition(entry["edition_id"]))

    async def score(self, entry_id: str, who: Identity, body: SheetIn, correlation_id: str) -> dict[str, Any]:
        sheet = await self._own_sheet(entry_id, who)
        edition = await self.deps.edition(sheet["edition_id"])
        now = self.deps.now()
        if edition["status"] == "published":
            raise Conflict(MESSAGES("contests.sheet.published"))
        timeline.require_open(edition["timeline"], now, "scoring")
        if sheet["status"] not in OPEN:
            raise Conflict(MESSAGES("contests.sheet.submitted"))
        scores = {code: hundredths(points) for code, points in body.scores.items()}
        rulebook.check_sheet(edition["criteria"], scores, complete=body.submit)
        fields: dict[str, Any] = {"scores": scores, "comment": body.comment}
        if body.submit:
            fields.update(status="submitted", submitted_at=now)
        saved = await self.deps.sheets.update(sheet["_id"], fields, expect={"status": {"$in": OPEN}})
        if saved is None:
            raise Conflict(MESSAGES("contests.sheet.submitted"))
        if not body.submit:
            entry = await self.deps.entries.get(entry_id)
        else:
            entry = await self.deps.entries.update(entry_id, {}, inc={"sheets_submitted": 1})
            if entry is not None:
                entry = await self._maybe_scored(entry, edition, correlation_id) or entry
        if entry is None:
            raise not_found_entry()
        return await self._view(saved, entry, edition)

    async def reopen(self, entry_id: str, judge: str, reason: str, who: Identity) -> dict[str, Any]:
        _, edition, _ = await self.deps.entry(entry_id, who)
        if edition["status"] == "published":
            raise Conflict(MESSAGES("contests.sheet.published"))
        now = self.deps.now()
        timeline.require_open(edition["timeline"], now, "scoring", "decision")
        sheet = await self.deps.sheets.get(entry_id, judge)
        if sheet is None:
            raise NotFound(MESSAGES("contests.sheet.none"))
        note = {"reason": reason, "by": who.sub, "at": now}
        reopened = await self.deps.sheets.update(
            sheet["_id"],
            {"status": "reopened", f"reopened.{lifecycle.history_key(now)}": note},
            expect={"status": "submitted"},
        )
        if reopened is None:
            raise Conflict(MESSAGES("contests.sheet.not_submitted"), sheet_status=sheet["status"])
        await self.deps.entries.count_sheets([entry_id], -1)
        return views.sheet(reopened, [c["code"] for c in edition["criteria"]])

    async def _maybe_scored(self, entry: EntryDoc, edition: EditionDoc, correlation_id: str) -> EntryDoc | None:
        """The entry moves to `scored` once as many sheets as the edition asks for are in."""
        if entry["status"] != "screened_in" or entry["sheets_submitted"] < edition["judges_per_entry"]:
            return None
        now = self.deps.now()
        decision = edition["timeline"].get("decision")
        event = announcing.about_entry(
            EntryScored,
            edition,
            entry,
            correlation_id,
            results_expected=to_local(decision["opens_at"]).date() if decision else None,
        )
        scored = await self.deps.entries.update(
            entry["_id"],
            lifecycle.change("scored", now, "system:judging"),
            expect={"status": "screened_in"},
            events=[event],
        )
        return scored

    async def _own_sheet(self, entry_id: str, who: Identity) -> SheetDoc:
        sheet = await self.deps.sheets.get(entry_id, username(who))
        if sheet is None or sheet["status"] == "withdrawn":
            raise not_found_entry()
        return sheet

    async def _view(self, sheet: SheetDoc, entry: EntryDoc, edition: EditionDoc) -> dict[str, Any]:
        codes = [c["code"] for c in edition["criteria"]]
        hidden = sheet["status"] != "submitted"
        others: list[dict[str, Any]] = []
        if not hidden:
            submitted = await self.deps.sheets.find(entry_id=entry["_id"], status="submitted")
            for n, other in enumerate((s for s in submitted if s["judge"] != sheet["judge"]), start=1):
                shown = views.sheet(other, codes)
                others.append(
                    {
                        "judge_label": {
                            lang: MESSAGES("contests.judge_label", n=n).render(lang) for lang in ("vi", "en")
                        },
                        "total": shown["total"],
                        "scores": shown["scores"],
                    }
                )
        return {
            "entry": views.entry(entry, edition, "judge"),
            "criteria": [views.criterion(c) for c in edition["criteria"]],
            "sheet": views.sheet(sheet, codes),
            "others_hidden": hidden,
            "others": others,
        }
