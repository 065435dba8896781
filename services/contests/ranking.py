"""The board's ranking: computed afresh from the submitted sheets every time it is
asked for (so a judge leaving, a sheet reopened or an override changes it at once),
frozen at publication. Overrides and the community vote's tally are recorded here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from services.contests import lifecycle, scoring, timeline, views
from services.contests.catalogue import MESSAGES, label
from services.contests.endpoints import OverrideIn, RankingQuery, VotesIn
from services.contests.reach import Deps
from services.contests.records import EditionDoc, EntryDoc
from shared.errors import Conflict
from shared.identity import Identity

RANKED_FIELDS = {"code": 1, "title": 1, "field": 1, "board": 1, "votes": 1, "override": 1, "sheets_submitted": 1}
LANGS = ("vi", "en")


def rules_of(edition: EditionDoc) -> scoring.Rules:
    vote = edition["community_vote"]
    return scoring.Rules(
        criteria=tuple((c["code"], c["max_points"]) for c in edition["criteria"]),
        tie_break=tuple(edition["tie_break"]),
        aggregation=edition["aggregation"],
        tiers=tuple(scoring.TierRule(t["code"], t["threshold"], t["quota"]) for t in edition["tiers"]),
        min_judges=edition["min_judges"],
        vote_share=Fraction(vote["share_permille"], 1000) if vote["enabled"] else Fraction(0),
        disagreement_threshold=edition.get("disagreement_threshold"),
        unit=100,
    )


def group_of(entry: Mapping[str, Any], rank_by: Sequence[str]) -> str:
    return "/".join(str(entry.get(part) or "-") for part in rank_by)


class Ranking:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def placements(self, edition: EditionDoc) -> list[dict[str, Any]]:
        """Every entry in competition placed, as the board reads it (explanations in both languages)."""
        entries = {
            e["_id"]: e
            async for e in self.deps.entries.stream(edition["_id"], list(lifecycle.IN_COMPETITION), RANKED_FIELDS)
        }
        sheets: dict[str, list[scoring.Sheet]] = defaultdict(list)
        for s in await self.deps.sheets.find(
            ["entry_id", "judge", "scores"], edition_id=edition["_id"], status="submitted"
        ):
            sheets[s["entry_id"]].append(scoring.Sheet(s["judge"], s["scores"]))
        candidates = [
            scoring.Candidate(
                entry_id,
                e["code"],
                group_of(e, edition["rank_by"]),
                tuple(sheets.get(entry_id, ())),
                int(e.get("votes") or 0),
                scoring.Override(e["override"]["tier"], e["override"]["reason"]) if e.get("override") else None,
            )
            for entry_id, e in entries.items()
        ]
        prizes: dict[str, int] = {t["code"]: t["prize_vnd"] for t in edition["tiers"]}
        return [_shown(p, entries[p.entry_id], prizes) for p in scoring.rank(candidates, rules_of(edition))]

    async def current(self, edition: EditionDoc) -> tuple[list[dict[str, Any]], bool]:
        """The published ranking once it is frozen, else the ranking as it stands; whether it is frozen."""
        frozen = await self.deps.archive.frozen(edition["_id"]) if edition["status"] == "published" else None
        return (list(frozen["items"]), True) if frozen else (await self.placements(edition), False)

    async def view(self, edition_id: str, query: RankingQuery, lang: str) -> dict[str, Any]:
        edition = await self.deps.edition(edition_id)
        items, frozen = await self.current(edition)
        if query.group is not None:
            items = [i for i in items if i["group"] == query.group]
        if query.sort == "disagreement":
            items.sort(key=lambda i: (-(i["spread"] or 0), -(i["stddev"] or 0), i["code"]))
        return {
            "edition_id": edition_id,
            "published": frozen,
            "aggregation": edition["aggregation"],
            "items": [{**_public(i), "explanation": i["explanation"][lang]} for i in items],
            "tiers": tier_counts(edition, items),
        }

    async def override(self, entry_id: str, body: OverrideIn, who: Identity) -> dict[str, Any]:
        entry, edition = await self._changeable(entry_id, who)
        record = {"tier": None if body.tier == "none" else body.tier, "reason": body.reason, "by": who.sub}
        updated = await self.deps.entries.update(
            entry_id,
            {"override": {**record, "at": self.deps.now()}, "updated_at": self.deps.now()},
            expect={"status": {"$in": list(lifecycle.IN_COMPETITION)}},
        )
        return views.entry(updated or entry, edition, "board")

    async def clear(self, entry_id: str, who: Identity) -> dict[str, Any]:
        entry, edition = await self._changeable(entry_id, who)
        updated = await self.deps.entries.update(entry_id, {"updated_at": self.deps.now()}, unset=["override"])
        return views.entry(updated or entry, edition, "board")

    async def record_votes(self, edition_id: str, body: VotesIn) -> dict[str, Any]:
        edition = await self.deps.edition(edition_id)
        if not edition["community_vote"]["enabled"]:
            raise Conflict(MESSAGES("contests.ranking.no_vote"))
        if edition["status"] == "published":
            raise Conflict(MESSAGES("contests.ranking.published"))
        known = await self.deps.entries.codes(edition_id, list(body.votes))
        await self.deps.entries.set_votes(edition_id, {c: n for c, n in body.votes.items() if c in known})
        return {"updated": len(known), "unknown": sorted(set(body.votes) - known)}

    async def _changeable(self, entry_id: str, who: Identity) -> tuple[EntryDoc, EditionDoc]:
        entry, edition, _ = await self.deps.entry(entry_id, who)
        if edition["status"] == "published":
            raise Conflict(MESSAGES("contests.ranking.published"))
        timeline.require_open(edition["timeline"], self.deps.now(), "decision")
        if entry["status"] not in lifecycle.IN_COMPETITION:
            raise Conflict(MESSAGES("contests.ranking.not_competing"), entry_status=entry["status"])
        return entry, edition


def _shown(p: scoring.Placement, entry: Mapping[str, Any], prizes: Mapping[str, int]) -> dict[str, Any]:
    override = entry.get("override")
    return {
        "entry_id": p.entry_id,
        "code": p.code,
        "title": entry["title"],
        "field": entry["field"],
        "group": p.group,
        "rank": p.rank,
        "complete": p.complete,
        "sheets_submitted": len(p.judge_totals) if p.complete else int(entry.get("sheets_submitted") or 0),
        "judges": [{"judge": j, "total": views.points(t)} for j, t in p.judge_totals],
        "judges_score": views.points(p.judges_score),
        "criteria_scores": {c: views.points(v) for c, v in p.criteria_scores},
        "votes": p.votes,
        "community_points": views.points(p.community_points),
        "final_score": views.points(p.final),
        "final": None if p.final is None else round(p.final),
        "spread": views.points(p.spread),
        "stddev": None if p.stddev is None else round(p.stddev / 100, 2),
        "look_again": p.look_again,
        "tier_by_rules": p.tier_by_rules,
        "tier": p.tier,
        "tier_label": label("tier", p.tier),
        "prize_vnd": prizes.get(p.tier or "", 0),
        "override": override,
        "explanation": {lang: [m.render(lang) for m in p.reasons] for lang in LANGS},
        "tie_broken_by": p.tie_broken_by,
    }


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in item.items() if k not in ("final", "authors", "author_members", "organization", "member_ids")
    }


def tier_counts(edition: EditionDoc, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups = sorted({i["group"] for i in items})
    return [
        {
            "group": group,
            "tier": t["code"],
            "label": label("tier", t["code"]),
            "awarded": sum(1 for i in items if i["group"] == group and i["tier"] == t["code"]),
            "quota": t["quota"],
        }
        for group in groups
        for t in edition["tiers"]
    ]
