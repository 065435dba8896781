"""Expiry notices and lapses: membership.expiring 30 and 7 days before a term ends,
membership.lapsed after it. Each notice is written once however many replicas sweep:
a member is updated only if its next notice is still the one read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.membership import lifecycle
from services.membership.changing import event
from services.membership.members import contact, history_entry
from services.membership.reach import Deps
from services.membership.store import MemberDoc
from shared.clock import epoch, now_utc
from shared.contracts import Envelope, MembershipExpiring, MembershipLapsed

SYSTEM = "system:membership"


class Expiry:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def sweep(self, now: float | None = None, batch: int = 200) -> int:
        """Send every notice and lapse due by `now`, each once; how many this call wrote."""
        now = epoch() if now is None else now
        written = 0
        seen: set[str] = set()
        while True:
            fresh = [d for d in await self.deps.members.due_notices(now, batch) if d["_id"] not in seen]
            if not fresh:
                return written
            for doc in fresh:
                seen.add(doc["_id"])
                written += await self._notice(doc, now)

    async def _notice(self, doc: MemberDoc, now: float) -> int:
        stage, term_end = doc.get("next_notice"), date.fromisoformat(doc["term_end"])
        set_, events = self._effects(doc, stage, term_end, now)
        update: dict[str, Any] = {"$inc": {"version": 1}}
        upcoming = lifecycle.next_notice(term_end, now, stage)
        if upcoming is None:
            update["$unset"] = {"next_notice": "", "next_notice_epoch": ""}
        else:
            set_["next_notice"], set_["next_notice_epoch"] = upcoming
        if set_:
            update["$set"] = set_
        written = await self.deps.members.write_notice(doc, update, events)
        return int(written and bool(events))

    @staticmethod
    def _effects(
        doc: MemberDoc, stage: str | None, term_end: date, now: float
    ) -> tuple[dict[str, Any], list[Envelope]]:
        """What a due notice changes and announces: a lapse, or an expiry notice."""
        if stage == "lapse":
            if doc["status"] not in lifecycle.TRANSITIONS["lapse"][0]:
                return {}, []
            hid, entry = history_entry("lapsed", SYSTEM, {"status": {"from": doc["status"], "to": "lapsed"}})
            lapsed = MembershipLapsed(**contact({**doc, "status": "lapsed"}), term_end=term_end)
            return {"status": "lapsed", "updated_at": now_utc(), f"history.{hid}": entry}, [event(lapsed, None)]
        if doc["status"] != "active":
            return {}, []
        today = lifecycle.local_today(datetime.fromtimestamp(now, UTC))
        days = lifecycle.days_left(term_end, today)
        return {}, [event(MembershipExpiring(**contact(doc), term_end=term_end, days_left=days), None)]
