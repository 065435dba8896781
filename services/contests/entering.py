"""Entering a contest: submitting an entry, correcting it before screening, reading
and listing entries within the caller's reach.

Entries come from the contest's public website (a partner key) and from staff. An
entry is checked for eligibility when it is submitted (and again when it changes);
a title much like an earlier edition's entry is flagged for the screening board.
The entrants are told it was received (entry.submitted, through notifications).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from services.contests import announcing, eligibility, entrants, lifecycle, timeline, views
from services.contests.catalogue import MESSAGES
from services.contests.endpoints import EntrantIn, EntryIn, EntryPatch, EntryQuery
from services.contests.reach import Deps
from services.contests.records import EditionDoc, EntryDoc
from services.contests.views import Audience
from shared.clock import today_local
from shared.contracts import EntrySubmitted
from shared.errors import Conflict, FieldError, Invalid
from shared.identity import Identity


class EntryDesk:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def submit(self, edition_id: str, body: EntryIn, who: Identity, correlation_id: str) -> dict[str, Any]:
        edition = await self.deps.edition(edition_id)
        now = self.deps.now()
        timeline.require_open(edition["timeline"], now, "registration")
        fields = await self._fields(edition, body, who)
        fields["history_declared"] = body.history.model_dump()
        eligibility.check_entry(edition["kind"], edition, fields, today_local())
        fields["warnings"] = await self._possible_repeats(edition, fields["title"])
        number = await self.deps.editions.take_entry_number(edition_id)
        entry: dict[str, Any] = {
            "_id": uuid.uuid4().hex,
            "edition_id": edition_id,
            "code": f"{edition['code']}-{number:04d}",
            **fields,
            "documents": {},
            "documents_bytes": 0,
            "sheets_submitted": 0,
            "votes": 0,
            "status": "submitted",
            "history": {lifecycle.history_key(now): {"status": "submitted", "at": now, "by": who.sub}},
            "created_by": who.sub,
            "created_at": now,
            "updated_at": now,
        }
        event = announcing.about_entry(EntrySubmitted, edition, entry, correlation_id)
        await self.deps.entries.insert(entry, event)  # type: ignore[arg-type]
        return views.entry(entry, edition, "board" if who.is_admin else "staff")  # type: ignore[arg-type]

    async def update(self, entry_id: str, body: EntryPatch, who: Identity) -> dict[str, Any]:
        entry, edition, audience = await self.deps.entry(entry_id, who)
        now = self.deps.now()
        timeline.require_open(edition["timeline"], now, "registration", "submission")
        if entry["status"] not in lifecycle.EDITABLE:
            raise Conflict(MESSAGES("contests.entry.locked"), entry_status=entry["status"])
        given = body.model_dump(exclude_unset=True, exclude={"entrant"})
        merged = EntryIn.model_validate(
            {**self._as_sent(entry), **given, "entrant": body.entrant or self._as_sent(entry)["entrant"]}
        )
        fields = await self._fields(edition, merged, who)
        eligibility.check_entry(edition["kind"], edition, {**fields, "history_declared": {}}, today_local())
        if fields["title"] != entry["title"]:
            fields["warnings"] = await self._possible_repeats(edition, fields["title"])
        updated = await self.deps.entries.update(
            entry_id, {**fields, "updated_at": now}, expect={"status": {"$in": list(lifecycle.EDITABLE)}}
        )
        if updated is None:
            raise Conflict(MESSAGES("contests.entry.locked"))
        return views.entry(updated, edition, audience)

    async def get(self, entry_id: str, who: Identity) -> dict[str, Any]:
        entry, edition, audience = await self.deps.entry(entry_id, who)
        return views.entry(entry, edition, audience)

    async def page(self, edition_id: str, query: EntryQuery, who: Identity) -> dict[str, Any]:
        edition = await self.deps.edition(edition_id)
        found = await self.deps.entries.page(
            edition_id,
            organizations=await self.deps.organizations_of(who),
            statuses=list(query.status or []),
            field=query.field,
            after=query.after,
            limit=query.limit + 1,
        )
        audience: Audience = "board" if who.is_admin else "staff"
        items = [views.entry(e, edition, audience) for e in found[: query.limit]]
        return {"items": items, "next_after": found[query.limit - 1]["code"] if len(found) > query.limit else None}

    # --- shaping what was sent -----------------------------------------------------------

    async def _fields(self, edition: EditionDoc, body: EntryIn, who: Identity) -> dict[str, Any]:
        sent = body.entrant
        organization_id = await self._organization(sent, who)
        entrants.check_entrant(sent.kind, organization_id, sent.organization_name, len(sent.authors))
        authors_sent = [a.model_dump() for a in sent.authors]
        members = await self.deps.projections.members_by_id(a["member_id"] for a in authors_sent if a["member_id"])
        authors = entrants.authors(authors_sent, members)
        supervisor = None
        if body.supervisor is not None:
            errors: list[FieldError] = []
            supervisor = {
                **body.supervisor.model_dump(),
                "phone": entrants.phone(body.supervisor.phone, "supervisor.phone", errors),
            }
            if errors:
                raise Invalid(*errors)
        member_orgs = {o for m in members.values() for o in m.get("organization_ids") or []}
        return {
            "title": " ".join(body.title.split()),
            "title_key": eligibility.title_key(body.title),
            "field": body.field,
            "summary": body.summary,
            "description": body.description,
            "applied_since": body.applied_since.isoformat() if body.applied_since else None,
            "application_place": body.application_place,
            "entrant": {
                "kind": sent.kind,
                "organization_id": organization_id,
                "organization_name": sent.organization_name,
                "authors": authors,
            },
            "supervisor": supervisor,
            "board": body.board,
            "organization_ids": sorted({*([organization_id] if organization_id else []), *member_orgs}),
            "member_ids": sorted({a["member_id"] for a in authors if a.get("member_id")}),
        }

    async def _organization(self, sent: EntrantIn, who: Identity) -> str | None:
        """The entering organisation: one the caller reaches (a manager's own by default)."""
        wanted = sent.organization_id or (who.organization_id if not who.is_admin and not who.is_judge else None)
        if wanted is None:
            return None
        reach = await self.deps.tree.reach(who)
        if not await self.deps.tree.exists(wanted) or not reach.covers(wanted):
            raise entrants.unknown_organization()
        return wanted

    async def _possible_repeats(self, edition: EditionDoc, title: str) -> list[dict[str, Any]]:
        earlier = [e["_id"] for e in await self.deps.editions.of_kind(edition["kind"]) if e["_id"] != edition["_id"]]
        if not earlier:
            return []
        found = eligibility.similar_titles(title, await self.deps.entries.titles(earlier))
        return [
            {
                "entry_id": s.entry_id,
                "code": s.code,
                "edition_id": s.edition_id,
                "title": s.title,
                "similarity": s.similarity,
            }
            for s in found
        ]

    @staticmethod
    def _as_sent(entry: EntryDoc) -> dict[str, Any]:
        """A stored entry in the shape it was sent in, to merge a correction into."""
        authors = [
            {
                k: (views.points(cast(int, v)) if k == "share" and v is not None else v)
                for k, v in a.items()
                if k
                in ("full_name", "member_id", "email", "phone", "language", "share", "date_of_birth", "school", "grade")
                and v is not None
            }
            for a in entry["entrant"]["authors"]
        ]
        return {
            "title": entry["title"],
            "field": entry["field"],
            "summary": entry["summary"],
            "description": entry.get("description"),
            "applied_since": entry.get("applied_since"),
            "application_place": entry.get("application_place"),
            "supervisor": entry.get("supervisor"),
            "board": entry.get("board"),
            "entrant": {
                "kind": entry["entrant"]["kind"],
                "organization_id": entry["entrant"].get("organization_id"),
                "organization_name": entry["entrant"].get("organization_name"),
                "authors": authors,
            },
        }
