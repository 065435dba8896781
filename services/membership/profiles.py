"""A member's profile: reading it and its history, and changing contacts, profile and
consents (each consent change recorded with when and how it was given)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.membership import lifecycle
from services.membership.catalogue import MESSAGES
from services.membership.changing import Changes, event, shown
from services.membership.endpoints import MemberPatch
from services.membership.members import contact, derived_keys, history_entry, public_history
from services.membership.reach import Deps
from services.membership.store import MemberDoc
from shared.clock import now_utc
from shared.contracts import MemberUpdated
from shared.identity import Identity
from shared.text import fold


def _differs(doc: MemberDoc, key: str, value: Any) -> bool:
    old: Any = doc.get(key)
    if key == "consents":
        old = {k: bool(v) for k, v in (old or {}).items()}
    return not (old == value or (value in (None, []) and key not in doc))


def _consent_records(doc: MemberDoc, consents: dict[str, bool], now: datetime, source: str) -> dict[str, Any]:
    held = doc.get("consents") or {}
    return {
        f"consent_records.{channel}": {"granted": granted, "at": now.isoformat(), "source": source}
        for channel, granted in consents.items()
        if bool(held.get(channel)) != granted
    }


def _derived(member_id: str, merged: dict[str, Any], changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    set_: dict[str, Any] = {}
    unset: dict[str, str] = {}
    if "full_name" in changes or "date_of_birth" in changes:
        set_.update(derived_keys(member_id, merged["full_name"], merged.get("date_of_birth")))
    if "expertise" in changes:
        if merged.get("expertise"):
            set_["expertise_key"] = fold(merged["expertise"])
        else:
            unset["expertise_key"] = ""
    return set_, unset


class Profiles:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.changes = Changes(deps)

    async def show(self, who: Identity, member_id: str) -> dict[str, Any]:
        doc, _ = await self.deps.member(who, member_id)
        return shown(doc, who)

    async def history(self, who: Identity, member_id: str) -> dict[str, Any]:
        doc, _ = await self.deps.member(who, member_id)
        return {"items": public_history(doc)}

    async def change(
        self, who: Identity, member_id: str, patch: MemberPatch, correlation_id: str | None
    ) -> dict[str, Any]:
        doc, reach = await self.deps.member(who, member_id)
        if doc["status"] == "erased":
            raise lifecycle.InvalidTransition(MESSAGES("membership.erased_member"), status_now="erased")
        sent = patch.model_dump(exclude_unset=True, exclude={"consent_source"}, mode="json")
        if "organization_ids" in sent:
            await self.changes.check_organizations(sent["organization_ids"], reach)
        changes = {k: {"from": doc.get(k), "to": v} for k, v in sent.items() if _differs(doc, k, v)}
        if not changes:
            return shown(doc, who)
        update, merged = self._update(doc, {k: sent[k] for k in changes}, changes, patch.consent_source, who.sub)
        envelope = event(MemberUpdated(**contact(merged), changed_fields=sorted(changes)), correlation_id)
        after = await self.changes.apply(doc, update, [envelope], reach)
        return shown(after, who)

    @staticmethod
    def _update(
        doc: MemberDoc, values: dict[str, Any], changes: dict[str, Any], source: str, by: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The store update and the member as it will be."""
        now = now_utc()
        set_ = {k: v for k, v in values.items() if v is not None}
        unset = {k: "" for k, v in values.items() if v is None}
        if "consents" in set_:
            set_.update(_consent_records(doc, set_["consents"], now, source))
        merged: dict[str, Any] = {k: v for k, v in {**doc, **set_}.items() if k not in unset}
        derived_set, derived_unset = _derived(doc["_id"], merged, changes)
        set_.update(derived_set)
        unset.update(derived_unset)
        hid, entry = history_entry("updated", by, changes)
        set_[f"history.{hid}"] = entry
        set_["updated_at"] = now
        update: dict[str, Any] = {"$set": set_}
        if unset:
            update["$unset"] = unset
        return update, {**merged, **set_}
