"""Opening and configuring contest editions.

An edition starts from its contest's usual rules (rulebook.py) and what staff
change; every change is checked whole. Criteria are fixed once a judge has
submitted a score sheet (the sheets would no longer add up); after publication
only the timeline, the decision's number and the national contest may change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.contests import rulebook, timeline, views
from services.contests.catalogue import MESSAGES
from services.contests.endpoints import CriterionIn, EditionIn, EditionRules, EligibilityIn, TimelineIn
from services.contests.reach import Deps
from services.contests.records import EditionDoc
from shared.clock import as_utc
from shared.errors import Conflict

AFTER_PUBLICATION = {"timeline", "national_contest", "decision_number", "name"}


def hundredths(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


SCALARS = (
    "number",
    "with_presentations",
    "aggregation",
    "min_judges",
    "judges_per_entry",
    "rank_by",
    "national_contest",
    "decision_number",
    "tie_break",
)


def rules_from(body: EditionRules) -> dict[str, Any]:
    """The stored form of the rules given (points in hundredths, times in UTC)."""
    given = body.model_dump(exclude_unset=True, exclude_none=True)
    out: dict[str, Any] = {key: given[key] for key in SCALARS if key in given}
    for key, convert in CONVERTERS.items():
        value = getattr(body, key)
        if value is not None:
            out[key] = convert(value)
    return out


def _eligibility(rule: EligibilityIn) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in rule.model_dump(exclude_none=True).items()}


def _criterion(c: CriterionIn) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name.model_dump(),
        "max_points": hundredths(c.max_points),
        "levels": [
            {
                "points_from": hundredths(level.points_from),
                "points_to": hundredths(level.points_to),
                "description": level.description.model_dump(),
            }
            for level in c.levels
        ],
    }


def _timeline(given: TimelineIn) -> dict[str, Any]:
    return {
        name: {"opens_at": as_utc(w.opens_at), "closes_at": as_utc(w.closes_at)} for name, w in given if w is not None
    }


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "name": lambda name: name.model_dump(),
    "fields": lambda fields: [f.model_dump() for f in fields],
    "criteria": lambda criteria: [_criterion(c) for c in criteria],
    "tiers": lambda tiers: [{**t.model_dump(), "threshold": hundredths(t.threshold)} for t in tiers],
    "disagreement_threshold": hundredths,
    "community_vote": lambda vote: {"enabled": vote.enabled, "share_permille": int(vote.share * 1000)},
    "timeline": lambda timeline: _timeline(timeline),
    "eligibility": lambda rule: _eligibility(rule),
}


def merged(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """An edition with changes applied: eligibility and timeline merged, the tie-break kept to existing criteria."""
    out = {**current, **changes}
    for part in ("eligibility", "timeline"):
        if part in changes:
            out[part] = {**current[part], **changes[part]}
    if "criteria" in changes and "tie_break" not in changes:
        codes = {c["code"] for c in changes["criteria"]}
        out["tie_break"] = [c for c in current["tie_break"] if c in codes]
    return out


class EditionDesk:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def create(self, body: EditionIn) -> dict[str, Any]:
        now = self.deps.now()
        base = rulebook.defaults(body.kind)
        doc: dict[str, Any] = {
            "_id": uuid.uuid4().hex,
            "code": body.code,
            "kind": body.kind,
            "number": None,
            "status": "open",
            "timeline": {},
            "with_presentations": False,
            **base,
            "aggregation": "mean",
            "min_judges": 3,
            "judges_per_entry": 3,
            "disagreement_threshold": 2000,
            "community_vote": {"enabled": False, "share_permille": 100},
            "national_contest": None,
            "decision_number": None,
            "entry_seq": 0,
            "created_at": now,
            "updated_at": now,
        }
        given = rules_from(body)
        doc.update(given)
        doc["eligibility"] = {**base["eligibility"], **given.get("eligibility", {})}
        doc.update(self._checked(body.kind, doc))
        try:
            await self.deps.editions.insert(doc)  # type: ignore[arg-type]
        except DuplicateKeyError:
            raise Conflict(MESSAGES("contests.edition.code_taken", code=body.code), field="code") from None
        return views.edition(doc, now)  # type: ignore[arg-type]

    async def update(self, edition_id: str, body: EditionRules) -> dict[str, Any]:
        current = await self.deps.edition(edition_id)
        changes = rules_from(body)
        await self._may_change(current, changes)
        checked = self._checked(current["kind"], merged(dict(current), changes))
        fields = {k: checked[k] for k in (*changes, "tie_break", "eligibility", "timeline") if k in checked}
        updated = await self.deps.editions.update(edition_id, {**fields, "updated_at": self.deps.now()})
        if updated is None:
            raise Conflict(MESSAGES("contests.edition.published"))
        return views.edition(updated, self.deps.now())

    async def _may_change(self, current: EditionDoc, changes: dict[str, Any]) -> None:
        if current["status"] == "published" and set(changes) - AFTER_PUBLICATION:
            raise Conflict(MESSAGES("contests.edition.published"))
        if "criteria" in changes and changes["criteria"] != current["criteria"] and await self._scored(current["_id"]):
            raise Conflict(MESSAGES("contests.edition.criteria_fixed"), field="criteria")

    async def get(self, edition_id: str) -> dict[str, Any]:
        return views.edition(await self.deps.edition(edition_id), self.deps.now())

    async def listing(self) -> dict[str, Any]:
        now = self.deps.now()
        return {"items": [views.edition(e, now) for e in await self.deps.editions.all()]}

    @staticmethod
    def _checked(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        timeline.check(doc["timeline"])
        return rulebook.check(kind, doc)

    async def _scored(self, edition_id: str) -> bool:
        return await self.deps.sheets.first(edition_id=edition_id, status=["submitted", "reopened"]) is not None
