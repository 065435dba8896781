"""Admitting members: staff enter a member (active at once, welcomed), anyone allowed
applies (staff review it, the organisations' contacts are told), and staff approve
(a first term begins) or reject an application."""

from __future__ import annotations

import uuid
from typing import Any

from services.membership import lifecycle
from services.membership.catalogue import MESSAGES
from services.membership.changing import Changes, event, shown
from services.membership.endpoints import MemberIn
from services.membership.members import contact, first_term_fields, new_member
from services.membership.organizations import NotYours
from services.membership.reach import Deps
from services.membership.standing import transition_update
from shared.clock import now_utc
from shared.contracts import MemberApplied, MemberApproved, MemberUpdated
from shared.identity import Identity


class Admissions:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.changes = Changes(deps)

    async def enter(
        self, who: Identity, body: MemberIn, correlation_id: str | None, *, apply: bool = False
    ) -> dict[str, Any]:
        """A member entered by staff (active at once) or an application (`apply`)."""
        reach = await self.deps.reach(who)
        if not reach.everything and not body.organization_ids:
            raise NotYours(MESSAGES("membership.place_inside_yours"), field="organization_ids")
        await self.changes.check_organizations(body.organization_ids, reach)
        status = "applied" if apply else "active"
        fields = body.model_dump(exclude={"consent_source"})
        doc = new_member(
            str(uuid.uuid4()),
            fields,
            status=status,
            by=who.sub,
            now=now_utc(),
            consent_source=body.consent_source,
            years=self.deps.term_years,
        )
        if apply:
            reviewers = await self.deps.orgs.contact_emails(body.organization_ids)
            envelope = event(MemberApplied(**contact(doc), reviewer_emails=reviewers), correlation_id)
        else:
            envelope = event(MemberApproved(**contact(doc)), correlation_id)
        await self.changes.add(doc, envelope, reach)
        return shown(doc, who)

    async def decide(
        self, who: Identity, member_id: str, action: str, reason: str | None, correlation_id: str | None
    ) -> dict[str, Any]:
        """Approve (a first term begins, the member is welcomed) or reject an application."""
        doc, reach = await self.deps.member(who, member_id)
        target = lifecycle.next_status(doc["status"], action)
        now = now_utc()
        set_, unset = transition_update(doc, action, target, who.sub, reason)
        if action == "approve":
            set_.update(first_term_fields(now, self.deps.term_years, who.sub))
            model: Any = MemberApproved(**contact({**doc, **set_}))
        else:
            set_.update(rejected_at=now, rejected_by=who.sub)
            model = MemberUpdated(**contact({**doc, **set_}), changed_fields=["status"])
        update: dict[str, Any] = {"$set": set_}
        if unset:
            update["$unset"] = unset
        after = await self.changes.apply(doc, update, [event(model, correlation_id)], reach, {"status": doc["status"]})
        return shown(after, who)
