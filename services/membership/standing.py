"""A member's standing over time: suspended and reinstated, resigned, renewed (a new
term, optionally with the dues paid — the term continues without a gap, or starts
today once lapsed)."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any

from services.membership import lifecycle
from services.membership.catalogue import MESSAGES
from services.membership.changing import Changes, event, shown
from services.membership.members import contact, history_entry, term_fields
from services.membership.reach import Deps
from services.membership.store import MemberDoc
from shared.clock import now_utc
from shared.contracts import DuesPayment, MembershipRenewed, MemberUpdated
from shared.errors import DomainError
from shared.identity import Identity

NO_NOTICES = ("resigned", "rejected", "lapsed")


class InvalidTerm(DomainError):
    status, code, title = 422, "invalid-term", MESSAGES("membership.invalid_term")


def transition_update(
    doc: MemberDoc, action: str, target: str, by: str, reason: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """($set, $unset) of a status change: the status, its history entry, and no more
    notices once the member has left."""
    set_: dict[str, Any] = {"status": target, "updated_at": now_utc()}
    unset: dict[str, str] = {}
    if target in NO_NOTICES:
        unset.update(next_notice="", next_notice_epoch="")
    hid, entry = history_entry(action, by, {"status": {"from": doc["status"], "to": target}}, reason)
    set_[f"history.{hid}"] = entry
    return set_, unset


class Standing:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.changes = Changes(deps)

    async def transition(
        self, who: Identity, member_id: str, action: str, reason: str | None, correlation_id: str | None
    ) -> dict[str, Any]:
        """Suspend, reinstate or resign."""
        doc, reach = await self.deps.member(who, member_id)
        target = lifecycle.next_status(doc["status"], action)
        set_, unset = transition_update(doc, action, target, who.sub, reason)
        update: dict[str, Any] = {"$set": set_}
        if unset:
            update["$unset"] = unset
        envelope = event(MemberUpdated(**contact({**doc, **set_}), changed_fields=["status"]), correlation_id)
        after = await self.changes.apply(doc, update, [envelope], reach, {"status": doc["status"]})
        return shown(after, who)

    async def renew(
        self,
        who: Identity,
        member_id: str,
        *,
        years: int,
        term_start: date | None,
        term_end: date | None,
        dues: DuesPayment | None,
        correlation_id: str | None,
    ) -> dict[str, Any]:
        doc, reach = await self.deps.member(who, member_id)
        if doc["status"] not in lifecycle.RENEWABLE:
            raise lifecycle.cannot("renew", doc["status"])
        start, end = self._term(doc, years, term_start, term_end)
        target = "active" if doc["status"] == "lapsed" else doc["status"]
        set_, unset, changes = self._renewal(doc, start, end, target, dues, who.sub)
        hid, entry = history_entry("renewed", who.sub, changes)
        set_[f"history.{hid}"] = entry
        update: dict[str, Any] = {"$set": {k: v for k, v in set_.items() if v is not None}}
        if unset:
            update["$unset"] = unset
        renewed = MembershipRenewed(**contact({**doc, **set_}), term_start=start, term_end=end, dues=dues)
        after = await self.changes.apply(
            doc, update, [event(renewed, correlation_id)], reach, {"status": doc["status"]}
        )
        return shown(after, who)

    @staticmethod
    def _term(doc: MemberDoc, years: int, term_start: date | None, term_end: date | None) -> tuple[date, date]:
        today = lifecycle.local_today(now_utc())
        current_end = date.fromisoformat(doc["term_end"]) if doc.get("term_end") else None
        start, end = lifecycle.renewed_term(current_end, today, years)
        if term_start is not None:
            start, end = term_start, lifecycle.add_years(term_start, years) - timedelta(days=1)
        if term_end is not None:
            end = term_end
        if end < start:
            detail = MESSAGES("membership.term_backwards")
            raise InvalidTerm(detail, field="term_end", term_start=start.isoformat())
        return start, end

    @staticmethod
    def _renewal(
        doc: MemberDoc, start: date, end: date, target: str, dues: DuesPayment | None, by: str
    ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
        """($set, $unset, history changes) of a renewal."""
        now = now_utc()
        set_: dict[str, Any] = {
            "status": target,
            "updated_at": now,
            **term_fields(start, end, now.timestamp()),
            "dues_state": "paid" if dues else "unpaid",
        }
        unset = {"next_notice": "", "next_notice_epoch": ""} if set_["next_notice"] is None else {}
        changes: dict[str, Any] = {
            "term": {
                "from": {"start": doc.get("term_start"), "end": doc.get("term_end")},
                "to": {"start": start.isoformat(), "end": end.isoformat()},
            }
        }
        if target != doc["status"]:
            changes["status"] = {"from": doc["status"], "to": target}
        if dues:
            payment = dues.model_dump(mode="json")
            changes["dues"] = payment
            record = {**payment, "term_start": start.isoformat(), "recorded_by": by}
            set_[f"dues.{time.time_ns():020d}"] = json.dumps(record, ensure_ascii=False)
        return set_, unset, changes
