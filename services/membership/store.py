"""The membership service's store: queries and writes only, on typed documents.

Collections: `organizations` and `members` (outbox collections: a change and the events
it causes are one write; every change to a member carries its history entry in the same
write), `member_terms` (name search: one document per folded word prefix of a member's
name, shared/search.py; written here with every member write that changes them, new
terms before the member, the replaced ones after it is made, its own after it is refused,
each write's terms stamped by the stamp it stores as the member's `name_terms`; erasure
forgets them all), `member_imports`
(jobs), `member_import_errors` (rejected rows, with the row's cells so staff can
download, fix and re-upload them), `membership_schedule` (due items).

Shapes chosen for the embedded store: history and dues are maps of JSON strings keyed by
sortable ids (never sub-documents pushed into arrays); folded search keys,
sort keys and due times (epoch numbers) are stored and indexed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.membership.documents import ImportErrorDoc, ImportJobDoc, MemberDoc, OrgDoc
from shared.contracts import Envelope
from shared.mongo import IndexSpec, bulk_write_each, duplicate_key
from shared.outbox import push_events, with_events
from shared.scheduler import due_item_indexes
from shared.search import UNSTAMPED, Rewrite, Term, TermIndex, rewrite, rewrite_update, stamp_of, term_indexes, terms

ORGS, MEMBERS, IMPORTS, IMPORT_ERRORS = "organizations", "members", "member_imports", "member_import_errors"
SCHEDULE, MEMBER_TERMS = "membership_schedule", "member_terms"
OUTBOX = [ORGS, MEMBERS, SCHEDULE]
INDEXES = [
    IndexSpec(ORGS, [("code", 1)], unique=True),
    IndexSpec(MEMBERS, [("email", 1)], unique=True, sparse=True),
    IndexSpec(MEMBERS, [("phone", 1)], unique=True, sparse=True),
    IndexSpec(MEMBERS, [("sort_key", 1)]),  # name order, unique by the id it ends with
    # No index on name_key (a name search walks member_terms, then checks name_key on the members found)
    # or dup_key (read only for import rows with neither email nor phone): each index slows every insert.
    IndexSpec(MEMBERS, [("organization_ids", 1)]),
    IndexSpec(MEMBERS, [("next_notice_epoch", 1)]),
    IndexSpec(IMPORT_ERRORS, [("job_id", 1), ("line", 1)]),
    *due_item_indexes(SCHEDULE),
    *term_indexes(MEMBER_TERMS),
]
NO_BULK = {"_outbox": 0, "history": 0}
# A member's `name_terms`: the stamp its name terms were last written with (shared/search.py), or
# TERMS_SCHEME once the start-up backfill wrote them from content alone; absent: none written yet.
NAME_TERMS, TERMS_SCHEME = "name_terms", UNSTAMPED
TERM_FIELDS = ("full_name", "sort_key", "organization_ids", "status")


def member_terms(doc: Mapping[str, Any]) -> list[Term]:
    """The search terms of a member as stored (none once erased)."""
    if doc.get("status") == "erased" or not doc.get("full_name") or not doc.get("sort_key"):
        return []
    scope = doc.get("organization_ids") or []
    return terms(doc["_id"], doc["full_name"], doc["sort_key"], scope, stamp_of(doc.get(NAME_TERMS)))


def _rewrite(doc: Mapping[str, Any], update: Mapping[str, Any]) -> Rewrite:
    """What `update` of the member as read does to its terms."""
    return rewrite_update(member_terms, doc, update, TERM_FIELDS, NAME_TERMS)


def _new(doc: Mapping[str, Any]) -> tuple[dict[str, Any], Rewrite]:
    """A new member as stored (with its terms' stamp), and its terms."""
    change = rewrite(member_terms, None, doc, NAME_TERMS)
    return {**doc, NAME_TERMS: change.stamp}, change


class Taken(Exception):
    """A unique index refused the write: `field` is already someone's."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class OrganizationStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.orgs = db[ORGS]
        self.members = db[MEMBERS]

    async def all(self) -> list[OrgDoc]:
        return [d async for d in self.orgs.find({}, {"_outbox": 0})]

    async def parent_map(self) -> dict[str, str | None]:
        return {d["_id"]: d.get("parent_id") async for d in self.orgs.find({}, {"parent_id": 1})}

    async def codes(self) -> dict[str, str]:
        """code → id of every organisation."""
        return {d["code"]: d["_id"] async for d in self.orgs.find({}, {"code": 1})}

    async def get(self, org_id: str) -> OrgDoc | None:
        return await self.orgs.find_one({"_id": org_id}, {"_outbox": 0})

    async def by_code(self, code: str) -> OrgDoc | None:
        return await self.orgs.find_one({"code": code}, {"_outbox": 0})

    async def root(self) -> OrgDoc | None:
        return await self.orgs.find_one({"kind": "federation"}, {"_outbox": 0})

    async def contact_emails(self, org_ids: Sequence[str]) -> list[str]:
        query = {"_id": {"$in": list(org_ids)}, "contact_email": {"$exists": True}}
        return [d["contact_email"] async for d in self.orgs.find(query, {"contact_email": 1})]

    async def add(self, doc: OrgDoc, event: Envelope) -> None:
        try:
            await self.orgs.insert_one(with_events(dict(doc), event))
        except DuplicateKeyError:
            raise Taken("code") from None

    async def change(self, org_id: str, update: dict[str, Any], event: Envelope) -> None:
        await self.orgs.update_one({"_id": org_id}, push_events(update, event))

    async def live_child(self, org_id: str) -> str | None:
        child = await self.orgs.find_one({"parent_id": org_id, "status": {"$ne": "dissolved"}}, {"_id": 1})
        return child["_id"] if child else None

    async def live_member(self, org_id: str) -> str | None:
        # $in, not equality: the embedded store finds nothing by equality on an indexed array field.
        query = {"organization_ids": {"$in": [org_id]}, "status": {"$ne": "erased"}}
        member = await self.members.find_one(query, {"_id": 1})
        return member["_id"] if member else None

    async def member_counts(self, org_ids: Sequence[str]) -> dict[str, int]:
        """Members (not erased) of each organisation, counted once per organisation they belong to."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"organization_ids": {"$in": list(org_ids)}, "status": {"$ne": "erased"}}},
            {"$project": {"organization_ids": 1}},
        ]
        counts: dict[str, int] = dict.fromkeys(org_ids, 0)
        async for doc in await self.members.aggregate(pipeline):
            for org in doc.get("organization_ids") or []:
                if org in counts:
                    counts[org] += 1
        return counts


class MemberStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.members = db[MEMBERS]
        self.terms = TermIndex(db[MEMBER_TERMS])

    async def get(self, member_id: str) -> MemberDoc | None:
        return await self.members.find_one({"_id": member_id}, {"_outbox": 0})

    async def holder(self, field: str, value: Any) -> MemberDoc | None:
        """Who holds this email or phone (name and organisations only)."""
        projection = {"_id": 1, "full_name": 1, "organization_ids": 1}
        return await self.members.find_one({field: value}, projection)

    async def page(self, query: dict[str, Any], *, limit: int, after: str | None) -> list[MemberDoc]:
        """Up to `limit` members in name order after the sort key `after`."""
        if after:
            query = {**query, "sort_key": {"$gt": after}}
        cursor = self.members.find(query, NO_BULK).sort("sort_key", 1).limit(limit)
        return await cursor.to_list()

    async def search(
        self,
        text: str,
        query: dict[str, Any],
        *,
        limit: int,
        after: str | None,
        scope: Iterable[str] | None,
        pattern: str | None = None,
    ) -> list[MemberDoc]:
        """Up to `limit` members whose name has words beginning with `text`'s words, in name
        order after the sort key `after`, through the name terms; `query` (which checks the
        name exactly) is applied to the members the terms name; `scope`: organisations a
        member must belong to (None: any); `pattern`: what the folded name must match (checked on
        the terms, so members the words find out of order are never read)."""

        async def fetch(ids: list[str]) -> list[MemberDoc]:  # in the terms' order: no sort in the store
            found = {d["_id"]: d async for d in self.members.find({**query, "_id": {"$in": ids}}, NO_BULK)}
            return [found[i] for i in ids if i in found]

        return await self.terms.search(text, fetch, limit=limit, after=after, scope=scope, pattern=pattern)

    async def every(self, query: dict[str, Any], batch: int = 500) -> AsyncIterator[MemberDoc]:
        """Every member matching `query`, in name order, a page at a time (for exports)."""
        after = None
        while True:
            docs = await self.page(query, limit=batch, after=after)
            for d in docs:
                yield d
            if len(docs) < batch:
                return
            after = docs[-1]["sort_key"]

    async def duplicate_groups(self, match: dict[str, Any], limit: int) -> list[list[str]]:
        """Ids of members sharing a duplicate key, group by group."""
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {"$group": {"_id": "$dup_key", "count": {"$sum": 1}, "ids": {"$push": "$_id"}}},
            {"$match": {"count": {"$gt": 1}}},
            {"$limit": limit},
        ]
        groups = sorted(await (await self.members.aggregate(pipeline)).to_list(), key=lambda g: str(g["_id"]))
        # The embedded store hands arrays back as JSON text after a later $match.
        return [json.loads(g["ids"]) if isinstance(g["ids"], str) else list(g["ids"]) for g in groups]

    async def many(self, ids: Sequence[str]) -> list[MemberDoc]:
        if not ids:
            return []
        return await self.members.find({"_id": {"$in": list(ids)}}, NO_BULK).to_list()

    async def status_counts(self) -> dict[str, int]:
        pipeline = [{"$group": {"_id": "$status", "count": {"$sum": 1}}}]
        return {g["_id"]: g["count"] async for g in await self.members.aggregate(pipeline)}

    async def add(self, doc: MemberDoc, event: Envelope) -> None:
        stored, change = _new(doc)
        await self.terms.add(change.added)
        try:
            await self.members.insert_one(with_events(stored, event))
        except DuplicateKeyError as exc:
            await self.terms.drop(change.leftover(written=False))
            raise Taken(duplicate_key(exc)) from None

    async def apply(
        self, doc: MemberDoc, update: dict[str, Any], events: Sequence[Envelope], expect: dict[str, Any]
    ) -> MemberDoc | None:
        """Write `update` (with its events) if the member is still as read (its version and
        `expect`); the new state, or None if it changed meanwhile."""
        condition = {"_id": doc["_id"], "version": doc.get("version", 1), **expect}
        change = _rewrite(doc, update)
        update = change.stamped({**update, "$inc": {"version": 1}}, NAME_TERMS)
        await self.terms.add(change.added)
        try:
            result = await self.members.update_one(condition, push_events(update, *events))
        except DuplicateKeyError as exc:
            await self.terms.drop(change.leftover(written=False))
            raise Taken(duplicate_key(exc)) from None
        written = result.matched_count == 1
        if written and (update.get("$set") or {}).get("status", doc.get("status")) == "erased":
            await self.forget_terms(doc["_id"])
        else:
            await self.terms.drop(change.leftover(written))
        return await self.get(doc["_id"]) if written else None

    async def forget_terms(self, member_id: str) -> None:
        """Every name term of a member, however written (erasure, and its retries)."""
        await self.terms.forget(member_id)

    async def due_notices(self, now: float, batch: int) -> list[MemberDoc]:
        query = {"next_notice_epoch": {"$lte": now}}
        cursor = self.members.find(query, NO_BULK).sort("next_notice_epoch", 1).limit(batch)
        return await cursor.to_list()

    async def write_notice(self, doc: MemberDoc, update: dict[str, Any], events: Sequence[Envelope]) -> bool:
        """Write a notice's update only if the member's next notice is still the one read."""
        condition = {
            "_id": doc["_id"],
            "next_notice": doc["next_notice"],
            "next_notice_epoch": doc["next_notice_epoch"],
        }
        result = await self.members.update_one(condition, push_events(update, *events))
        return result.modified_count == 1

    # --- imports ---------------------------------------------------------------------

    async def matching(self, field: str, values: Iterable[str], projection: dict[str, int]) -> list[MemberDoc]:
        values = sorted(set(values))
        if not values:
            return []
        return await self.members.find({field: {"$in": values}}, projection).to_list()

    async def add_many(self, docs: Sequence[tuple[MemberDoc, Envelope]]) -> set[str]:
        """Insert new members with their events; the ids the unique indexes refused."""
        if not docs:
            return set()
        new = [_new(d) for d, _ in docs]
        await self.terms.add([t for _, change in new for t in change.added])
        inserts = [InsertOne(with_events(stored, e)) for (stored, _), (_, e) in zip(new, docs, strict=True)]
        _, refused = await bulk_write_each(self.members, inserts)  # a write concern error is raised
        await self.terms.drop([i for n, (_, change) in enumerate(new) for i in change.leftover(n not in refused)])
        return {docs[n][0]["_id"] for n in refused}

    async def change_many(self, changes: Sequence[tuple[Mapping[str, Any], dict[str, Any], Envelope]]) -> int:
        """Apply each update to its member (as read) with its event; how many changed."""
        if not changes:
            return 0
        # Their terms as stored: what the caller read may lack the fields they derive from.
        query, fields = {"_id": {"$in": [d["_id"] for d, _, _ in changes]}}, {k: 1 for k in (*TERM_FIELDS, NAME_TERMS)}
        stored = {d["_id"]: d async for d in self.members.find(query, fields)}
        rewrites = [_rewrite(stored.get(d["_id"], d), u) for d, u, _ in changes]
        await self.terms.add([t for change in rewrites for t in change.added])
        ops = [
            UpdateOne({"_id": d["_id"]}, push_events(change.stamped({**u, "$inc": {"version": 1}}, NAME_TERMS), e))
            for (d, u, e), change in zip(changes, rewrites, strict=True)
        ]
        result, refused = await bulk_write_each(self.members, ops)  # a write concern error is raised
        await self.terms.drop([i for n, change in enumerate(rewrites) for i in change.leftover(n not in refused)])
        return int(result.get("nModified", 0))

    async def without_terms(self, batch: int) -> list[MemberDoc]:
        """Members stored before name terms (not erased), for the start-up backfill."""
        query = {NAME_TERMS: {"$exists": False}, "status": {"$ne": "erased"}}
        fields = {k: 1 for k in TERM_FIELDS}
        return await self.members.find(query, fields).limit(batch).to_list()

    async def index_terms(self, docs: Sequence[MemberDoc]) -> None:
        """Write the terms of members stored before them (ids from content alone: no stamp on
        the members yet), then mark them (not a change of the member), unless a write stamped
        them meanwhile: its terms are the ones to keep."""
        await self.terms.add([t for d in docs for t in member_terms(d)])
        unmarked = {"_id": {"$in": [d["_id"] for d in docs]}, NAME_TERMS: {"$exists": False}}
        await self.members.update_many(unmarked, {"$set": {NAME_TERMS: TERMS_SCHEME}})


class ImportStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.jobs = db[IMPORTS]
        self.errors = db[IMPORT_ERRORS]

    async def add(self, job: ImportJobDoc) -> None:
        await self.jobs.insert_one(dict(job))

    async def get(self, job_id: str) -> ImportJobDoc | None:
        return await self.jobs.find_one({"_id": job_id})

    async def recent(self, created_by: str | None, limit: int) -> list[ImportJobDoc]:
        query = {"created_by": created_by} if created_by else {}
        return await self.jobs.find(query).sort("created_epoch", -1).limit(limit).to_list()

    async def set(self, job_id: str, fields: dict[str, Any], counts: dict[str, int] | None = None) -> None:
        update: dict[str, Any] = {"$set": fields}
        if counts:
            update["$inc"] = counts
        await self.jobs.update_one({"_id": job_id}, update)

    async def add_errors(self, errors: Sequence[ImportErrorDoc]) -> None:
        if errors:
            await self.errors.insert_many([dict(e) for e in errors], ordered=False)

    async def errors_page(self, job_id: str, *, after_line: int | None, limit: int) -> list[ImportErrorDoc]:
        query: dict[str, Any] = {"job_id": job_id}
        if after_line is not None:
            query["line"] = {"$gt": after_line}
        return await self.errors.find(query).sort("line", 1).limit(limit).to_list()

    async def every_error(self, job_id: str, batch: int = 1000) -> AsyncIterator[ImportErrorDoc]:
        """Every rejected row of an import, by line (a line's reasons never split across pages)."""
        after: int | None = None
        while len(docs := await self.errors_page(job_id, after_line=after, limit=batch)) == batch:
            whole = [d for d in docs if d["line"] < docs[-1]["line"]] or docs
            for doc in whole:
                yield doc
            after = whole[-1]["line"]
        for doc in docs:
            yield doc

    async def forget_member(self, member_id: str, values: Sequence[str]) -> int:
        """Erase a member from rejected rows: rows naming them, or holding any of `values`
        (their name, email or phone as the row wrote it or as it was cleaned)."""
        ids = {d["_id"] async for d in self.errors.find({"params.member_id": member_id}, {"_id": 1})}
        if values:
            ids |= {d["_id"] async for d in self.errors.find({"search": {"$in": list(values)}}, {"_id": 1})}
        if not ids:
            return 0
        update = {"$set": {"params": {}, "cells": {}, "search": [], "erased": True}}
        return (await self.errors.update_many({"_id": {"$in": sorted(ids)}}, update)).modified_count


__all__ = [
    "ImportErrorDoc",
    "ImportJobDoc",
    "ImportStore",
    "MemberDoc",
    "MemberStore",
    "OrgDoc",
    "OrganizationStore",
    "Taken",
]
