"""Screening (sơ khảo): the board lets an entry on to scoring, or not, with the reason.

A decision may be corrected while the screening window is open and no judge has
submitted a sheet for the entry. Screening an entry out takes back its
assignments. The entrants are told either way (entry.screened).
"""

from __future__ import annotations

from typing import Any

from services.contests import announcing, lifecycle, timeline, views
from services.contests.catalogue import MESSAGES
from services.contests.endpoints import ScreeningIn
from services.contests.reach import Deps
from shared.contracts import EntryScreened
from shared.errors import Conflict
from shared.identity import Identity


class Screening:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def screen(self, entry_id: str, body: ScreeningIn, who: Identity, correlation_id: str) -> dict[str, Any]:
        entry, edition, audience = await self.deps.entry(entry_id, who)
        now = self.deps.now()
        timeline.require_open(edition["timeline"], now, "screening")
        target = "screened_in" if body.decision == "in" else "screened_out"
        if entry["status"] == target:
            raise Conflict(MESSAGES("contests.screening.same"), entry_status=target)
        lifecycle.require_move(entry["status"], target)
        if entry["sheets_submitted"]:
            raise Conflict(MESSAGES("contests.screening.scored"))
        reason = body.reason if body.decision == "out" else body.reason or None
        fields = {
            **lifecycle.change(target, now, who.sub, reason),
            "screening": {"decision": body.decision, "reason": reason, "by": who.sub, "at": now},
        }
        event = announcing.about_entry(
            EntryScreened, edition, {**entry, "status": target}, correlation_id, decision=body.decision, reason=reason
        )
        updated = await self.deps.entries.update(
            entry_id, fields, expect={"status": entry["status"], "sheets_submitted": 0}, events=[event]
        )
        if updated is None:
            raise Conflict(MESSAGES("contests.screening.scored"))
        if target == "screened_out":
            waiting = await self.deps.sheets.find(entry_id=entry_id, status=["assigned", "reopened"])
            await self.deps.sheets.withdraw([s["_id"] for s in waiting], now)
        return views.entry(updated, edition, audience)
