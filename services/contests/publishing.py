"""Publishing results, the award decision, certificates and forwarding.

Publication freezes the ranking (results collection, written once), marks the
edition published with `contest.results_published`, then gives each entry its
result with its own event (`entry.awarded` / `entry.not_awarded`), so every entrant
is told. Each step is conditional: publishing again finishes an interrupted run and
changes nothing that was done. It is refused while an entry lacks sheets or a sheet
is still open. The public results list never shows a judge's own scores.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.contests import announcing, lifecycle, papers, timeline, views
from services.contests.catalogue import MESSAGES, label
from services.contests.ranking import Ranking
from services.contests.reach import Deps
from services.contests.records import EditionDoc, EntryDoc, ResultsDoc
from shared.contracts import ContestResultsPublished, EntryAwarded, EntryForwarded, EntryNotAwarded, new_event
from shared.errors import Conflict, NotFound
from shared.identity import Identity
from shared.pdf import unicode_font

PARALLEL = 16  # entries written at once while publishing


class Publishing:
    def __init__(self, deps: Deps, ranking: Ranking, font: str) -> None:
        self.deps = deps
        self.ranking = ranking
        self.font = font

    async def publish(self, edition_id: str, who: Identity, correlation_id: str) -> dict[str, Any]:
        edition = await self.deps.edition(edition_id)
        frozen = await self.deps.archive.frozen(edition_id) if edition["status"] == "published" else None
        if frozen is None:
            timeline.require_open(edition["timeline"], self.deps.now(), "decision")
            frozen = await self._freeze(edition, who)
            event = new_event(
                ContestResultsPublished(
                    edition=announcing.edition_summary(edition),
                    published_at=frozen["published_at"],
                    entries_ranked=len(frozen["items"]),
                    awarded=_awarded(frozen["items"]),
                    results_url=self.deps.links.results(edition_id),
                ),
                producer=announcing.SERVICE,
                correlation_id=correlation_id,
            )
            await self.deps.editions.update(
                edition_id,
                {"status": "published", "published_at": frozen["published_at"]},
                expect={"status": "open"},
                events=[event],
            )
            edition = await self.deps.edition(edition_id)
        await self._apply(edition, frozen, correlation_id)
        awarded = sum(1 for i in frozen["items"] if i["tier"])
        return {
            "edition_id": edition_id,
            "published_at": frozen["published_at"],
            "awarded": awarded,
            "not_awarded": len(frozen["items"]) - awarded,
        }

    async def results(self, edition_id: str) -> dict[str, Any]:
        edition = await self.deps.edition(edition_id)
        frozen = await self.deps.archive.frozen(edition_id) if edition["status"] == "published" else None
        if frozen is None:
            raise NotFound(MESSAGES("contests.publish.not_yet"))
        return {
            "edition_id": edition_id,
            "name": edition["name"],
            "published_at": frozen["published_at"],
            "decision_number": edition.get("decision_number"),
            "items": [_public(edition, i) for i in _prize_order(edition, frozen["items"])],
        }

    async def decision(self, edition_id: str, lang: str) -> bytes:
        edition = await self.deps.edition(edition_id)
        frozen = await self.deps.archive.frozen(edition_id) if edition["status"] == "published" else None
        items = frozen["items"] if frozen else await self._with_people(await self.ranking.placements(edition))
        font = unicode_font(self.font, "CONTESTS_FONT")
        awarded = _prize_order(edition, items)
        when = frozen["published_at"] if frozen else self.deps.now()
        return await asyncio.to_thread(
            papers.decision_pdf, edition, awarded, font=font, draft=frozen is None, when=when, lang=lang
        )

    async def forward(self, entry_id: str, note: str | None, who: Identity, correlation_id: str) -> dict[str, Any]:
        entry, edition, _ = await self.deps.entry(entry_id, who)
        now = self.deps.now()
        timeline.require_open(edition["timeline"], now, "forwarding")
        lifecycle.require_move(entry["status"], "forwarded")
        event = announcing.about_entry(
            EntryForwarded, edition, entry, correlation_id, national_contest=edition.get("national_contest")
        )
        updated = await self.deps.entries.update(
            entry_id,
            {
                **lifecycle.change("forwarded", now, who.sub, note),
                "forwarding": {"note": note, "by": who.sub, "at": now},
            },
            expect={"status": "awarded"},
            events=[event],
        )
        if updated is None:
            raise lifecycle.InvalidTransition(entry_status="forwarded")
        return views.entry(updated or entry, edition, "board")

    # --- steps ----------------------------------------------------------------------------

    async def _freeze(self, edition: EditionDoc, who: Identity) -> ResultsDoc:
        placements = await self.ranking.placements(edition)
        open_sheets = await self.deps.sheets.find(edition_id=edition["_id"], status=["assigned", "reopened"])
        incomplete = [p for p in placements if not p["complete"]]
        if incomplete or open_sheets:
            raise Conflict(MESSAGES("contests.publish.incomplete", entries=len(incomplete), sheets=len(open_sheets)))
        if not placements:
            raise Conflict(MESSAGES("contests.publish.empty"))
        items = await self._with_people(placements)
        return await self.deps.archive.freeze(
            {
                "_id": edition["_id"],
                "published_at": self.deps.now(),
                "published_by": who.sub,
                "items": items,
                "member_ids": sorted({m for i in items for m in i["member_ids"]}),
            }
        )

    async def _with_people(self, placements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Placements with their authors' names and organisation, as the public list shows them."""
        entries = await self.deps.entries.many([p["entry_id"] for p in placements], {"entrant": 1, "member_ids": 1})
        orgs = await self.deps.projections.organizations_by_id(
            e["entrant"].get("organization_id") or "" for e in entries.values()
        )
        out = []
        for p in placements:
            entrant = entries[p["entry_id"]]["entrant"]
            org = orgs.get(entrant.get("organization_id") or "")
            named = [a for a in entrant["authors"] if not a.get("erased")]
            out.append(
                {
                    **p,
                    "authors": [a["full_name"] for a in named],
                    "author_members": [a.get("member_id") for a in named],
                    "organization": (org or {}).get("name") or entrant.get("organization_name"),
                    "member_ids": entries[p["entry_id"]].get("member_ids") or [],
                }
            )
        return out

    async def _apply(self, edition: EditionDoc, frozen: ResultsDoc, correlation_id: str) -> None:
        entries = await self.deps.entries.many(i["entry_id"] for i in frozen["items"])
        pending = [
            i
            for i in frozen["items"]
            if i["entry_id"] in entries and entries[i["entry_id"]]["status"] in lifecycle.IN_COMPETITION
        ]
        gate = asyncio.Semaphore(PARALLEL)

        async def one(item: dict[str, Any]) -> None:
            async with gate:
                await self._give_result(edition, entries[item["entry_id"]], item, correlation_id)

        await asyncio.gather(*(one(i) for i in pending))

    async def _give_result(
        self, edition: EditionDoc, entry: EntryDoc, item: dict[str, Any], correlation_id: str
    ) -> None:
        override = item.get("override") or {}
        result = {
            "rank": item["rank"],
            "final": item["final"],
            "tier": item["tier"],
            "prize_vnd": item["prize_vnd"],
            "decided_by_board": bool(override),
            "board_reason": override.get("reason"),
        }
        results_url = self.deps.links.results(edition["_id"])
        if item["tier"]:
            tier = label("tier", item["tier"])
            event = announcing.about_entry(
                EntryAwarded,
                edition,
                entry,
                correlation_id,
                tier=item["tier"],
                tier_vi=tier["vi"],
                tier_en=tier["en"],
                prize_vnd=item["prize_vnd"],
                final_score=item["final_score"],
                rank=item["rank"],
                decided_by_board=bool(override),
                results_url=results_url,
            )
        else:
            event = announcing.about_entry(
                EntryNotAwarded,
                edition,
                entry,
                correlation_id,
                final_score=item["final_score"],
                results_url=results_url,
            )
        status = lifecycle.result_status(item["tier"])
        await self.deps.entries.update(
            entry["_id"],
            {**lifecycle.change(status, self.deps.now(), "system:publication"), "result": result},
            expect={"status": {"$in": list(lifecycle.IN_COMPETITION)}},
            events=[event],
        )


def _awarded(items: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in items:
        if i["tier"]:
            counts[i["tier"]] = counts.get(i["tier"], 0) + 1
    return counts


def _prize_order(edition: EditionDoc, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = [t["code"] for t in edition["tiers"]]
    awarded = [i for i in items if i["tier"]]
    return sorted(awarded, key=lambda i: (i["group"], order.index(i["tier"]), i["rank"] or 0, i["code"]))


def _public(edition: EditionDoc, item: dict[str, Any]) -> dict[str, Any]:
    override = item.get("override") or {}
    return {
        "code": item["code"],
        "title": item["title"],
        "field": item["field"],
        "field_label": views.field_label(edition, item["field"]),
        "group": item["group"],
        "authors": item.get("authors") or [],
        "organization": item.get("organization"),
        "rank": item["rank"],
        "final_score": item["final_score"],
        "tier": item["tier"],
        "tier_label": label("tier", item["tier"]),
        "prize_vnd": item["prize_vnd"],
        "decided_by_board": bool(override),
        "board_reason": override.get("reason"),
    }
