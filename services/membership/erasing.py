"""A member's personal data: everything held about them (their right of access), and
erasure — the member anonymised (history kept as who/when/what kind only, organisations,
status and titles kept for aggregate figures), every rejected import row that held
their name, email or phone emptied, and other services told (member.erased)."""

from __future__ import annotations

import json
from typing import Any

from services.membership.changing import Changes, event, shown
from services.membership.members import ERASED_NAME, erased_history, history_entry, public_history, public_member
from services.membership.reach import Deps
from services.membership.store import MemberDoc
from shared.clock import now_utc
from shared.contracts import MemberErased
from shared.identity import Identity
from shared.logging import get_logger
from shared.text import fold

log = get_logger(__name__)
ERASED_FIELDS = (
    "email",
    "phone",
    "date_of_birth",
    "expertise",
    "expertise_key",
    "gender",
    "next_notice",
    "next_notice_epoch",
    "dues",
    "approved_by",
    "rejected_by",
)


class Erasure:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.changes = Changes(deps)

    async def personal_data(self, who: Identity, member_id: str) -> dict[str, Any]:
        doc, _ = await self.deps.member(who, member_id)
        out = public_member(doc, who)
        out["history"] = public_history(doc)
        out["dues_payments"] = [json.loads(doc["dues"][k]) for k in sorted(doc.get("dues") or {})]
        parents = await self.deps.orgs.all()
        names = {o["_id"]: o for o in parents}
        out["organizations"] = [
            {"id": i, "code": names[i]["code"], "name": names[i]["name"]}
            for i in out.get("organization_ids", [])
            if i in names
        ]
        return out

    async def erase(self, who: Identity, member_id: str, correlation_id: str | None) -> dict[str, Any]:
        """Erase a member; again on an erased member, finish what a run that failed or was
        cancelled after the member's write may have left (its write forgets the terms last)."""
        doc, reach = await self.deps.member(who, member_id)
        if doc["status"] == "erased":
            await self.deps.members.forget_terms(member_id)
            scrubbed = await self.deps.imports.forget_member(member_id, [])
            log.info("member.erasure_finished", member_id=member_id, import_rows_emptied=scrubbed)
            return shown(doc, who)
        # Rejected rows first: they are found by the name, email and phone the member's write removes.
        scrubbed = await self.deps.imports.forget_member(member_id, _held_values(doc))
        update = self._anonymised(doc, who.sub)
        envelope = event(MemberErased(member_id=member_id), correlation_id)
        after = await self.changes.apply(doc, update, [envelope], reach)
        log.info("member.erased", member_id=member_id, import_rows_emptied=scrubbed)
        return shown(after, who)

    @staticmethod
    def _anonymised(doc: MemberDoc, by: str) -> dict[str, Any]:
        now = now_utc()
        history = erased_history(doc)
        hid, entry = history_entry("erased", by)
        history[hid] = entry
        set_ = {
            "full_name": ERASED_NAME,
            "status": "erased",
            "erased_at": now,
            "erased_by": by,
            "updated_at": now,
            "sort_key": f"~ {doc['_id']}",
            "name_key": "",
            "dup_key": f"erased|{doc['_id']}",
            "history": history,
            "consents": {"email": False, "sms": False},
            "consent_records": {},
        }
        update: dict[str, Any] = {"$set": set_}
        unset = {k: "" for k in ERASED_FIELDS if k in doc}
        if unset:
            update["$unset"] = unset
        return update


def _held_values(doc: MemberDoc) -> list[str]:
    """The member's name, email and phone as rejected rows may hold them."""
    values = [doc.get("full_name"), doc.get("email"), doc.get("phone")]
    if doc.get("full_name"):
        values.append(fold(doc["full_name"]))
    return [v for v in values if v]
