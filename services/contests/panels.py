"""Judging panels: who judges which field, their conflicts of interest, and which
entries each judge gets.

Judges are staff accounts with the role `judge` (the gateway keeps the accounts;
this service keeps their seats on an edition's panels). A judge, or the board for
them, declares conflicts; an assigned entry a new conflict touches is taken back at
once (a submitted sheet stops counting). Assignment never gives an entry to a judge
with a conflict (conflicts.py). A judge who leaves the panel takes their sheets
with them, and the ranking is computed again from what is left.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.contests import conflicts, entrants, lifecycle, timeline
from services.contests.catalogue import MESSAGES
from services.contests.endpoints import ConflictIn, JudgeIn, OwnConflictIn
from services.contests.reach import Deps, username
from services.contests.records import EditionDoc, EntryDoc, JudgeDoc, SheetDoc
from shared.errors import Conflict, FieldError, Invalid, NotFound
from shared.identity import Identity
from shared.text import fold

ACTIVE_SHEETS = ["assigned", "submitted", "reopened"]


class Panels:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def seat(self, edition_id: str, name: str, body: JudgeIn) -> dict[str, Any]:
        edition = await self.deps.edition(edition_id)
        known = {f["code"] for f in edition["fields"]}
        unknown = [
            FieldError(f"fields.{i}", MESSAGES("contests.panel.unknown_field", code=code), "unknown")
            for i, code in enumerate(body.fields)
            if code not in known
        ]
        if unknown:
            raise Invalid(*unknown)
        judge = await self.deps.judges.put(
            {
                "_id": f"{edition_id}:{name}",
                "edition_id": edition_id,
                "username": name,
                "full_name": body.full_name,
                "organization_id": body.organization_id,
                "fields": sorted(set(body.fields)),
                "status": "active",
                "conflicts": {},
                "updated_at": self.deps.now(),
            }
        )
        return (await self._shown(edition_id, [judge]))[0]

    async def listing(self, edition_id: str) -> dict[str, Any]:
        await self.deps.edition(edition_id)
        return {"items": await self._shown(edition_id, await self.deps.judges.of_edition(edition_id))}

    async def withdraw(self, edition_id: str, name: str, reason: str) -> dict[str, Any]:
        _, judge = await self._judge(edition_id, name)
        if judge["status"] == "withdrawn":
            raise Conflict(MESSAGES("contests.panel.withdrawn"))
        updated = await self.deps.judges.update(edition_id, name, {"status": "withdrawn", "withdrawn_reason": reason})
        sheets = await self.deps.sheets.find(edition_id=edition_id, judge=name, status=ACTIVE_SHEETS)
        await self._take_back(sheets)
        assert updated is not None
        return (await self._shown(edition_id, [updated]))[0]

    async def record(self, edition_id: str, name: str, body: ConflictIn, who: Identity) -> dict[str, Any]:
        _, judge = await self._judge(edition_id, name)
        updated = await self._add_conflict(judge, body, who)
        return (await self._shown(edition_id, [updated]))[0]

    async def declare(self, body: OwnConflictIn, who: Identity) -> dict[str, Any]:
        """A judge's own declaration; an entry named must be one assigned to them (others do not exist for them)."""
        name = username(who)
        _, judge = await self._judge(body.edition_id, name)
        if body.kind == "entry" and await self.deps.sheets.get(str(body.entry_id), name) is None:
            raise NotFound(MESSAGES("contests.panel.not_competing"))
        if who.organization_id and not judge.get("organization_id"):  # the account's own organisation counts too
            judge = (
                await self.deps.judges.update(body.edition_id, name, {"organization_id": who.organization_id}) or judge
            )
        updated = await self._add_conflict(judge, body, who)
        return {"items": _conflicts(updated)}

    async def own_conflicts(self, who: Identity, edition_id: str | None) -> dict[str, Any]:
        seats = await self.deps.judges.of_judge(username(who))
        return {"items": [c for j in seats if edition_id in (None, j["edition_id"]) for c in _conflicts(j)]}

    async def assign_all(self, edition_id: str, per_entry: int | None) -> dict[str, Any]:
        edition = await self._open_for_assignment(edition_id)
        wanted = per_entry or edition["judges_per_entry"]
        competing = [
            e async for e in self.deps.entries.stream(edition_id, list(lifecycle.IN_COMPETITION), _CONTENDER_FIELDS)
        ]
        sheets = await self.deps.sheets.find(edition_id=edition_id)
        had: dict[str, set[str]] = {}
        active: Counter[str] = Counter()
        for s in sheets:
            had.setdefault(s["entry_id"], set()).add(s["judge"])
            active[s["entry_id"]] += s["status"] in ACTIVE_SHEETS
        panel = [j for j in await self.deps.judges.of_edition(edition_id) if j["status"] == "active"]
        plan = conflicts.assign(
            [_contender(e) for e in competing],
            [_panelist(j) for j in panel],
            had=had,
            active=active,
            per_entry=wanted,
            parent_of=await self.deps.tree.parents(),
        )
        return await self._store_plan(edition, {e["_id"]: e for e in competing}, plan)

    async def assign_one(self, entry_id: str, name: str, who: Identity) -> dict[str, Any]:
        entry, edition, _ = await self.deps.entry(entry_id, who)
        await self._open_for_assignment(edition["_id"])
        if entry["status"] not in lifecycle.IN_COMPETITION:
            raise Conflict(MESSAGES("contests.panel.not_competing"), entry_status=entry["status"])
        _, judge = await self._judge(edition["_id"], name)
        if judge["status"] != "active":
            raise Conflict(MESSAGES("contests.panel.withdrawn"))
        if entry["field"] not in judge["fields"]:
            raise Conflict(MESSAGES("contests.panel.not_on_panel"))
        kind = conflicts.conflict(_panelist(judge), _contender(entry), await self.deps.tree.parents())
        if kind is not None:
            raise Conflict(
                MESSAGES("contests.panel.conflict", kind=MESSAGES(f"contests.conflict.{kind}")), conflict=kind
            )
        if await self.deps.sheets.get(entry_id, name) is not None:
            raise Conflict(MESSAGES("contests.panel.had_entry"))
        return await self._store_plan(edition, {entry_id: entry}, conflicts.Plan(pairs=[(entry_id, name)]))

    # --- helpers ------------------------------------------------------------------------

    async def _judge(self, edition_id: str, name: str) -> tuple[EditionDoc, JudgeDoc]:
        edition = await self.deps.edition(edition_id)
        judge = await self.deps.judges.get(edition_id, name)
        if judge is None:
            raise NotFound(MESSAGES("contests.panel.no_judge"))
        if edition["status"] == "published":
            raise Conflict(MESSAGES("contests.panel.published"))
        return edition, judge

    async def _open_for_assignment(self, edition_id: str) -> EditionDoc:
        edition = await self.deps.edition(edition_id)
        if edition["status"] == "published":
            raise Conflict(MESSAGES("contests.panel.published"))
        timeline.require_open(edition["timeline"], self.deps.now(), "screening", "scoring")
        return edition

    async def _add_conflict(self, judge: JudgeDoc, body: ConflictIn, who: Identity) -> JudgeDoc:
        declared = {
            **body.model_dump(exclude={"edition_id"}),
            "person_key": fold(body.person_name) if body.person_name else None,
            "declared_by": who.sub,
            "declared_at": self.deps.now(),
        }
        key = lifecycle.history_key(self.deps.now())
        updated = await self.deps.judges.update(judge["edition_id"], judge["username"], {f"conflicts.{key}": declared})
        assert updated is not None
        await self._recuse(updated)
        return updated

    async def _recuse(self, judge: JudgeDoc) -> None:
        """Take back the judge's entries their conflicts now touch."""
        sheets = await self.deps.sheets.find(
            edition_id=judge["edition_id"], judge=judge["username"], status=ACTIVE_SHEETS
        )
        entries = await self.deps.entries.many([s["entry_id"] for s in sheets], _CONTENDER_FIELDS)
        parents = await self.deps.tree.parents()
        panelist = _panelist(judge)
        touched = [s for s in sheets if conflicts.conflict(panelist, _contender(entries[s["entry_id"]]), parents)]
        await self._take_back(touched)

    async def _take_back(self, sheets: list[SheetDoc]) -> None:
        await self.deps.sheets.withdraw([s["_id"] for s in sheets], self.deps.now())
        counted = [s["entry_id"] for s in sheets if s["status"] == "submitted"]
        await self.deps.entries.count_sheets(counted, -1)

    async def _store_plan(
        self, edition: EditionDoc, entries: dict[str, EntryDoc], plan: conflicts.Plan
    ) -> dict[str, Any]:
        now = self.deps.now()
        docs: list[SheetDoc] = [
            {
                "_id": f"{entry_id}:{name}",
                "edition_id": edition["_id"],
                "entry_id": entry_id,
                "entry_code": entries[entry_id]["code"],
                "field": entries[entry_id]["field"],
                "judge": name,
                "status": "assigned",
                "scores": {},
                "comment": None,
                "assigned_at": now,
                "reopened": {},
            }
            for entry_id, name in plan.pairs
        ]
        added = await self.deps.sheets.add(docs)
        return {
            "assigned": added,
            "pairs": [{"entry_id": e, "code": entries[e]["code"], "judge": j} for e, j in plan.pairs],
            "shortfalls": [
                {"entry_id": e, "code": entries[e]["code"], "wanted": wanted, "assigned": has}
                for e, wanted, has in plan.shortfalls
            ],
        }

    async def _shown(self, edition_id: str, judges: list[JudgeDoc]) -> list[dict[str, Any]]:
        sheets = await self.deps.sheets.find(edition_id=edition_id, status=ACTIVE_SHEETS)
        assigned = Counter(s["judge"] for s in sheets)
        submitted = Counter(s["judge"] for s in sheets if s["status"] == "submitted")
        names = await self.deps.projections.organizations_by_id(j.get("organization_id") or "" for j in judges)
        return [
            {
                "username": j["username"],
                "full_name": j["full_name"],
                "organization_id": j.get("organization_id"),
                "organization_name": (names.get(j.get("organization_id") or "") or {}).get("name"),
                "fields": j["fields"],
                "status": j["status"],
                "conflicts": _conflicts(j),
                "assigned": assigned[j["username"]],
                "submitted": submitted[j["username"]],
            }
            for j in judges
        ]


_CONTENDER_FIELDS = {"code": 1, "field": 1, "organization_ids": 1, "member_ids": 1, "entrant": 1, "edition_id": 1}


def _contender(entry: EntryDoc) -> conflicts.Contender:
    return conflicts.Contender(
        entry["_id"],
        entry["code"],
        entry["field"],
        tuple(entry.get("organization_ids") or ()),
        tuple(entry.get("member_ids") or ()),
        tuple(entrants.author_keys(entry["entrant"]["authors"])),
    )


def _panelist(judge: JudgeDoc) -> conflicts.Panelist:
    return conflicts.Panelist(
        judge["username"], judge.get("organization_id"), frozenset(judge["fields"]), tuple(judge["conflicts"].values())
    )


def _conflicts(judge: JudgeDoc) -> list[dict[str, Any]]:
    return [
        {"id": key, **{k: v for k, v in c.items() if k != "person_key"}}
        for key, c in sorted((judge.get("conflicts") or {}).items())
    ]
