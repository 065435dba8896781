"""Commercialisation follow-up: entries the board thinks have potential get a record
of who to talk to and what support was offered (patent filing, an introduction to
investors, a seminar slot) and where each stands, listed for staff."""

from __future__ import annotations

from typing import Any

from services.contests import entrants
from services.contests.endpoints import FollowUpIn, FollowUpQuery
from services.contests.reach import Deps
from services.contests.records import FollowUpDoc
from shared.errors import FieldError, Invalid
from shared.identity import Identity


class FollowUps:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def put(self, entry_id: str, body: FollowUpIn, who: Identity) -> dict[str, Any]:
        entry, _, _ = await self.deps.entry(entry_id, who)
        now = self.deps.now()
        doc: FollowUpDoc = {
            "_id": entry_id,
            "edition_id": entry["edition_id"],
            "entry_code": entry["code"],
            "title": entry["title"],
            "potential": body.potential,
            "contacts": _contacts(body),
            "support": {s.kind: {"state": s.state, "note": s.note, "updated_at": now} for s in body.support},
            "state": body.state,
            "updated_at": now,
            "updated_by": who.sub,
        }
        return _shown(await self.deps.archive.put_followup(doc))

    async def listing(self, query: FollowUpQuery) -> dict[str, Any]:
        wanted = {k: v for k, v in (("state", query.state), ("edition_id", query.edition_id)) if v}
        return {"items": [_shown(d) for d in await self.deps.archive.followups_page(wanted, query.limit)]}


def _contacts(body: FollowUpIn) -> list[dict[str, Any]]:
    errors: list[FieldError] = []
    contacts = [
        {**c.model_dump(), "phone": entrants.phone(c.phone, f"contacts.{i}.phone", errors)}
        for i, c in enumerate(body.contacts)
    ]
    if errors:
        raise Invalid(*errors)
    return contacts


def _shown(doc: FollowUpDoc) -> dict[str, Any]:
    return {
        "entry_id": doc["_id"],
        "entry_code": doc["entry_code"],
        "edition_id": doc["edition_id"],
        "title": doc["title"],
        "potential": doc["potential"],
        "contacts": doc["contacts"],
        "support": [{"kind": kind, **s} for kind, s in sorted(doc["support"].items())],
        "state": doc["state"],
        "updated_at": doc["updated_at"],
        "updated_by": doc["updated_by"],
    }
