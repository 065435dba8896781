"""Contests data in MongoDB: queries and writes on typed documents, nothing decided here.

Collections: editions, entries (with their status history and documents' records),
sheets (one per entry and judge: the assignment and the score), judges (panel
membership per edition, with declared conflicts), results (the frozen ranking of a
published edition), followups (commercialisation), and the projections of
members and organisations kept from membership's events (projections.py). Files live in GridFS
(bucket `documents`), under the id their entry's record holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from gridfs import AsyncGridFSBucket
from gridfs.asynchronous.grid_file import AsyncGridOut
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.contests.records import (
    EditionDoc,
    EntryDoc,
    FollowUpDoc,
    JudgeDoc,
    ResultsDoc,
    SheetDoc,
)
from shared.contracts import Envelope
from shared.mongo import IndexSpec, from_store, insert_unless_taken
from shared.outbox import push_events, with_events

EDITIONS, ENTRIES, SHEETS, JUDGES = "editions", "entries", "sheets", "judges"
RESULTS, FOLLOWUPS = "results", "followups"
MEMBERS, ORGANIZATIONS = "members", "organizations"  # projections.py
BUCKET = "documents"
INDEXES = [
    IndexSpec(EDITIONS, [("code", 1)], unique=True),
    IndexSpec(ENTRIES, [("code", 1)], unique=True),
    IndexSpec(ENTRIES, [("edition_id", 1), ("status", 1)]),
    IndexSpec(ENTRIES, [("organization_ids", 1)]),
    IndexSpec(ENTRIES, [("member_ids", 1)]),
    IndexSpec(ENTRIES, [("certificate_code", 1)], unique=True, sparse=True),
    IndexSpec(SHEETS, [("entry_id", 1)]),
    IndexSpec(SHEETS, [("judge", 1), ("edition_id", 1)]),
    IndexSpec(SHEETS, [("edition_id", 1), ("status", 1)]),
    IndexSpec(JUDGES, [("edition_id", 1)]),
    IndexSpec(JUDGES, [("username", 1)]),
    IndexSpec(RESULTS, [("member_ids", 1)]),
    IndexSpec(FOLLOWUPS, [("state", 1)]),
    IndexSpec(ORGANIZATIONS, [("parent_id", 1)]),
]
OUTBOX = [EDITIONS, ENTRIES]


def loaded(raw: Mapping[str, Any] | None) -> Any:
    return None if raw is None else from_store(dict(raw))


class Editions:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[EDITIONS]

    async def insert(self, doc: EditionDoc) -> None:
        """DuplicateKeyError when the code is taken."""
        await self.collection.insert_one(with_events(dict(doc)))

    async def get(self, edition_id: str) -> EditionDoc | None:
        return loaded(await self.collection.find_one({"_id": edition_id}))

    async def all(self) -> list[EditionDoc]:
        return [loaded(d) async for d in self.collection.find({}, {"_outbox": 0}).sort("created_at", -1)]

    async def of_kind(self, kind: str) -> list[EditionDoc]:
        return [loaded(d) async for d in self.collection.find({"kind": kind}, {"_id": 1, "created_at": 1, "code": 1})]

    async def update(
        self,
        edition_id: str,
        fields: dict[str, Any],
        *,
        expect: dict[str, Any] | None = None,
        events: Iterable[Envelope] = (),
    ) -> EditionDoc | None:
        """Set `fields` if the edition still matches `expect`; the edition after, or None."""
        update = push_events({"$set": fields}, *events)
        return loaded(
            await self.collection.find_one_and_update(
                {"_id": edition_id, **(expect or {})}, update, return_document=ReturnDocument.AFTER
            )
        )

    async def take_entry_number(self, edition_id: str) -> int:
        doc = await self.collection.find_one_and_update(
            {"_id": edition_id}, {"$inc": {"entry_seq": 1}}, {"entry_seq": 1}, return_document=ReturnDocument.AFTER
        )
        return int((doc or {}).get("entry_seq") or 0)

    async def count_sheets(self, edition_id: str, delta: int) -> None:
        await self.collection.update_one({"_id": edition_id}, {"$inc": {"sheets_submitted": delta}})


class Entries:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[ENTRIES]

    async def insert(self, doc: EntryDoc, *events: Envelope) -> None:
        await self.collection.insert_one(with_events(dict(doc), *events))

    async def get(self, entry_id: str) -> EntryDoc | None:
        return loaded(await self.collection.find_one({"_id": entry_id}, {"_outbox": 0, "_outbox_aside": 0}))

    async def many(self, ids: Iterable[str], projection: dict[str, int] | None = None) -> dict[str, EntryDoc]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        cursor = self.collection.find({"_id": {"$in": wanted}}, projection or {"_outbox": 0, "_outbox_aside": 0})
        return {d["_id"]: loaded(d) async for d in cursor}

    async def page(
        self,
        edition_id: str,
        *,
        organizations: list[str] | None,
        statuses: list[str] | None = None,
        field: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[EntryDoc]:
        """Entries of an edition in number order; `organizations`: only those belonging to one of them."""
        query: dict[str, Any] = {"edition_id": edition_id}
        if organizations is not None:
            query["organization_ids"] = {"$in": organizations}
        if statuses:
            query["status"] = {"$in": statuses}
        if field:
            query["field"] = field
        if after:
            query["code"] = {"$gt": after}
        cursor = self.collection.find(query, {"_outbox": 0, "_outbox_aside": 0}).sort("code", 1).limit(limit)
        return [loaded(d) async for d in cursor]

    async def stream(self, edition_id: str, statuses: list[str], projection: dict[str, int]) -> AsyncIterator[EntryDoc]:
        query = {"edition_id": edition_id, "status": {"$in": statuses}}
        async for d in self.collection.find(query, projection).sort("code", 1):
            yield loaded(d)

    async def titles(self, edition_ids: list[str]) -> list[dict[str, Any]]:
        projection = {"title": 1, "title_key": 1, "code": 1, "edition_id": 1}
        return [d async for d in self.collection.find({"edition_id": {"$in": edition_ids}}, projection)]

    async def update(
        self,
        entry_id: str,
        fields: dict[str, Any],
        *,
        expect: dict[str, Any] | None = None,
        events: Iterable[Envelope] = (),
        inc: dict[str, int] | None = None,
        unset: Iterable[str] = (),
    ) -> EntryDoc | None:
        """One conditional write of an entry and the events it causes; the entry after, or None."""
        update: dict[str, Any] = {"$set": fields} if fields else {}
        if inc:
            update["$inc"] = inc
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        doc = await self.collection.find_one_and_update(
            {"_id": entry_id, **(expect or {})},
            push_events(update, *events),
            projection={"_outbox": 0, "_outbox_aside": 0},
            return_document=ReturnDocument.AFTER,
        )
        return loaded(doc)

    async def count_sheets(self, entry_ids: list[str], delta: int) -> None:
        if entry_ids:
            await self.collection.update_many({"_id": {"$in": entry_ids}}, {"$inc": {"sheets_submitted": delta}})

    async def set_votes(self, edition_id: str, votes: Mapping[str, int]) -> int:
        ops = [UpdateOne({"edition_id": edition_id, "code": code}, {"$set": {"votes": n}}) for code, n in votes.items()]
        return (await self.collection.bulk_write(ops, ordered=False)).matched_count if ops else 0

    async def codes(self, edition_id: str, codes: list[str]) -> set[str]:
        """Which of these entry numbers exist in the edition."""
        cursor = self.collection.find({"edition_id": edition_id, "code": {"$in": codes}}, {"code": 1})
        return {d["code"] async for d in cursor}

    async def by_certificate(self, code: str) -> EntryDoc | None:
        return loaded(await self.collection.find_one({"certificate_code": code}, {"_outbox": 0, "_outbox_aside": 0}))

    async def with_member(self, member_id: str) -> list[EntryDoc]:
        return [loaded(d) async for d in self.collection.find({"member_ids": {"$in": [member_id]}}, {"_outbox": 0})]


class Sheets:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[SHEETS]

    async def add(self, docs: list[SheetDoc]) -> int:
        """Insert assignments; ones already there are left as they are. How many were new."""
        return len(docs) - len(await insert_unless_taken(self.collection, docs))

    async def get(self, entry_id: str, judge: str) -> SheetDoc | None:
        return loaded(await self.collection.find_one({"_id": f"{entry_id}:{judge}"}))

    async def find(self, fields: list[str] | None = None, **query: Any) -> list[SheetDoc]:
        """Sheets matching equalities, lists meaning any of (`status=["submitted"]`); only `fields` if given."""
        shaped = {k: ({"$in": v} if isinstance(v, list) else v) for k, v in query.items()}
        projection = dict.fromkeys(fields, 1) if fields else None
        return [loaded(d) async for d in self.collection.find(shaped, projection).sort("_id", 1)]

    async def first(self, **query: Any) -> SheetDoc | None:
        shaped = {k: ({"$in": v} if isinstance(v, list) else v) for k, v in query.items()}
        return loaded(await self.collection.find_one(shaped))

    async def update(self, sheet_id: str, fields: dict[str, Any], *, expect: dict[str, Any]) -> SheetDoc | None:
        doc = await self.collection.find_one_and_update(
            {"_id": sheet_id, **expect}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        return loaded(doc)

    async def withdraw(self, sheet_ids: list[str], at: datetime) -> None:
        if sheet_ids:
            await self.collection.update_many(
                {"_id": {"$in": sheet_ids}}, {"$set": {"status": "withdrawn", "withdrawn_at": at}}
            )


class Judges:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[JUDGES]

    async def put(self, doc: JudgeDoc) -> JudgeDoc:
        fields = {k: v for k, v in doc.items() if k not in ("_id", "conflicts")}
        await self.collection.update_one(
            {"_id": doc["_id"]}, {"$set": fields, "$setOnInsert": {"conflicts": {}}}, upsert=True
        )
        return cast(JudgeDoc, await self.get(doc["edition_id"], doc["username"]))

    async def get(self, edition_id: str, username: str) -> JudgeDoc | None:
        return loaded(await self.collection.find_one({"_id": f"{edition_id}:{username}"}))

    async def of_edition(self, edition_id: str) -> list[JudgeDoc]:
        return [loaded(d) async for d in self.collection.find({"edition_id": edition_id}).sort("username", 1)]

    async def of_judge(self, username: str) -> list[JudgeDoc]:
        return [loaded(d) async for d in self.collection.find({"username": username}).sort("_id", 1)]

    async def update(self, edition_id: str, username: str, fields: dict[str, Any]) -> JudgeDoc | None:
        doc = await self.collection.find_one_and_update(
            {"_id": f"{edition_id}:{username}"}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )
        return loaded(doc)


class Files:
    """Entry documents' bytes in GridFS; what they are is recorded on the entry."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)

    async def put(self, file_id: str, name: str, source: Any, metadata: dict[str, Any]) -> None:
        await self.bucket.upload_from_stream_with_id(file_id, name, source, metadata=metadata)

    async def open(self, file_id: str) -> AsyncGridOut:
        """NoFile when it is not there."""
        return await self.bucket.open_download_stream(file_id)

    async def delete(self, file_id: str) -> None:
        await self.bucket.delete(file_id)


class Archive:
    """Frozen results and commercialisation follow-ups."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.results = db[RESULTS]
        self.followups = db[FOLLOWUPS]

    async def freeze(self, doc: ResultsDoc) -> ResultsDoc:
        """Store an edition's results once; a second call returns the first."""
        try:
            await self.results.insert_one(dict(doc))
        except DuplicateKeyError:
            pass
        return cast(ResultsDoc, await self.frozen(doc["_id"]))

    async def frozen(self, edition_id: str) -> ResultsDoc | None:
        return loaded(await self.results.find_one({"_id": edition_id}))

    async def results_with_member(self, member_id: str) -> list[ResultsDoc]:
        return [loaded(d) async for d in self.results.find({"member_ids": {"$in": [member_id]}})]

    async def rewrite_results(self, edition_id: str, items: list[dict[str, Any]]) -> None:
        await self.results.update_one({"_id": edition_id}, {"$set": {"items": items}})

    async def put_followup(self, doc: FollowUpDoc) -> FollowUpDoc:
        await self.followups.update_one(
            {"_id": doc["_id"]}, {"$set": {k: v for k, v in doc.items() if k != "_id"}}, upsert=True
        )
        return cast(FollowUpDoc, loaded(await self.followups.find_one({"_id": doc["_id"]})))

    async def followups_page(self, query: dict[str, Any], limit: int) -> list[FollowUpDoc]:
        return [loaded(d) async for d in self.followups.find(query).sort("updated_at", -1).limit(limit)]
