"""Bulk import of members (and organisations) from the spreadsheets staff have.

A member import is a job: the upload is spooled to a temporary file, then read a
batch at a time (never whole), each row cleaned (tabular.py), matched against the
members already held, and written with one bulk insert and one bulk update per
batch. The job document counts rows as they go, so callers follow its progress;
each rejected row is stored with its line, column and reason code, rendered in
Vietnamese or English when the report is read.

Running the same file again creates nothing: a row whose email or phone (or, with
neither, whose name and date of birth) belongs to a member with the same name is
that member, updated if the row says something new. A row whose email or phone
belongs to someone else is refused, naming that member.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.membership import lifecycle
from services.membership.messages import render
from services.membership.organizations import CODE, InvalidPlacement, import_order, normalise_code
from services.membership.store import (
    ERASED_NAME,
    IMPORT_ERRORS,
    IMPORTS,
    MEMBERS,
    OrganizationStore,
    contact,
    derived_keys,
    event,
    history_entry,
    new_member_document,
    now_utc,
)
from services.membership.tabular import (
    MEMBER_COLUMNS,
    ORG_COLUMNS,
    ORG_KINDS,
    ParsedRow,
    RowError,
    UnreadableFile,
    parse_member_row,
    read_records,
)
from services.membership.vietnamese import fold
from shared.contracts import MemberUpdated
from shared.logging import get_logger
from shared.mongo import epoch, from_store
from shared.outbox import OutboxRelay, push_events, with_events

log = get_logger(__name__)

_MATCH_FIELDS = {
    "_id": 1,
    "full_name": 1,
    "name_key": 1,
    "email": 1,
    "phone": 1,
    "date_of_birth": 1,
    "gender": 1,
    "titles": 1,
    "expertise": 1,
    "organization_ids": 1,
    "status": 1,
    "language": 1,
    "consents": 1,
    "dup_key": 1,
}
STALE_SECONDS = 300.0  # a running import writes after every batch; silence this long means its replica is gone
_UPDATABLE = ("email", "phone", "date_of_birth", "gender", "titles", "expertise", "language")


def _batches(
    records: Iterator, orgs_by_code: dict[str, str], allowed: set[str] | None, today: date, size: int
) -> Iterator[list[ParsedRow]]:
    while True:
        chunk = list(itertools.islice(records, size))
        if not chunk:
            return
        yield [parse_member_row(line, record, orgs_by_code, today, allowed) for line, record in chunk]


class MemberImports:
    def __init__(
        self,
        db: AsyncDatabase,
        relay: OutboxRelay,
        orgs: OrganizationStore,
        *,
        batch_size: int = 1000,
        term_years: int = 1,
    ) -> None:
        self.jobs = db[IMPORTS]
        self.errors = db[IMPORT_ERRORS]
        self.members = db[MEMBERS]
        self.relay = relay
        self.orgs = orgs
        self.batch_size = batch_size
        self.term_years = term_years
        self.tasks: set[asyncio.Task] = set()

    async def create_job(self, *, filename: str | None, size: int, by: str) -> dict[str, Any]:
        now = now_utc()
        job = {
            "_id": str(uuid.uuid4()),
            "state": "queued",
            "filename": filename,
            "bytes": size,
            "created_by": by,
            "created_at": now,
            "created_epoch": now.timestamp(),
            "heartbeat": now.timestamp(),
            "updated_at": now,
            "rows": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
        }
        await self.jobs.insert_one(job)
        return job

    def start(
        self,
        job_id: str,
        path: str,
        *,
        by: str,
        allowed: set[str] | None,
        correlation_id: str | None,
        remove_file: bool = True,
    ) -> asyncio.Task:
        task = asyncio.create_task(
            self.run(job_id, path, by=by, allowed=allowed, correlation_id=correlation_id, remove_file=remove_file),
            name=f"member-import-{job_id}",
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def run(
        self,
        job_id: str,
        path: str,
        *,
        by: str,
        allowed: set[str] | None,
        correlation_id: str | None,
        remove_file: bool = True,
    ) -> dict[str, Any]:
        """Import the file at `path` into job `job_id`; returns the finished job."""
        await self.jobs.update_one(
            {"_id": job_id}, {"$set": {"state": "running", "updated_at": now_utc(), "heartbeat": epoch()}}
        )
        try:
            orgs_by_code = await self.orgs.codes()
            today = lifecycle.local_today(now_utc())
            records = read_records(path, MEMBER_COLUMNS, required=("full_name",))
            batches = _batches(records, orgs_by_code, allowed, today, self.batch_size)
            # The next batch is read and checked in a thread while this one is written.
            reading = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            while True:
                batch = await reading
                if batch is None:
                    break
                reading = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
                counts = await self._write_batch(job_id, batch, by=by, correlation_id=correlation_id)
                await self.jobs.update_one(
                    {"_id": job_id},
                    {
                        "$inc": counts,
                        "$set": {"last_line": batch[-1].line, "updated_at": now_utc(), "heartbeat": epoch()},
                    },
                )
            await self.jobs.update_one({"_id": job_id}, {"$set": {"state": "done", "finished_at": now_utc()}})
        except UnreadableFile as exc:
            await self.jobs.update_one(
                {"_id": job_id},
                {
                    "$set": {
                        "state": "failed",
                        "error": {"code": exc.code, "params": {"value": exc.value}},
                        "finished_at": now_utc(),
                    }
                },
            )
        except asyncio.CancelledError:
            await asyncio.shield(
                self.jobs.update_one({"_id": job_id}, {"$set": {"state": "interrupted", "finished_at": now_utc()}})
            )
            raise
        except Exception as exc:
            log.exception("import.failed", job_id=job_id)
            await self.jobs.update_one(
                {"_id": job_id},
                {
                    "$set": {
                        "state": "failed",
                        "error": {"code": "file_unreadable", "params": {"value": type(exc).__name__}},
                        "finished_at": now_utc(),
                    }
                },
            )
        finally:
            if remove_file:
                try:
                    os.unlink(path)
                except OSError:
                    pass
        job = await self.jobs.find_one({"_id": job_id})
        log.info(
            "import.finished",
            job_id=job_id,
            state=job["state"],
            rows=job["rows"],
            created=job["created"],
            updated=job["updated"],
            rejected=job["rejected"],
        )
        return job

    async def _existing(self, field: str, values: list[str]) -> dict[str, dict[str, Any]]:
        if not values:
            return {}
        docs = await self.members.find({field: {"$in": values}}, _MATCH_FIELDS).to_list()
        return {d[field]: d for d in docs if d.get("status") != "erased"}

    async def _write_batch(
        self, job_id: str, batch: list[ParsedRow], *, by: str, correlation_id: str | None
    ) -> dict[str, int]:
        """Check, match and write one batch. Optimistic: new rows are inserted straight
        away and the unique indexes on email and phone say which belong to someone
        already; only those rows are then looked up (a fresh import reads nothing)."""
        errors: list[RowError] = [e for row in batch for e in row.errors]
        good = [row for row in batch if row.fields is not None]
        no_contact = [r for r in good if not r.fields.get("email") and not r.fields.get("phone")]
        plan = _Plan(by_dup=await self._existing("dup_key", sorted({_dup_key(r.fields) for r in no_contact})))
        now = now_utc()
        for row in good:
            plan.place(row, self._new_doc(job_id, row, by, now))
        clashed = await self._insert(plan.creates, correlation_id)
        created = len(plan.creates) - len(clashed)
        # Rows that met a member created in this batch, and rows the indexes turned away:
        # now matched against what is stored.
        retry = [row for row, doc in plan.creates if doc["_id"] in clashed]
        retry += [row for row, doc in plan.waiting if doc["_id"] in clashed]
        for row, doc in plan.waiting:
            if doc["_id"] not in clashed:
                plan.settle(row, {**doc, "_new": True})
        if retry:
            stored = _Plan(
                by_email=await self._existing(
                    "email", sorted({r.fields["email"] for r in retry if r.fields.get("email")})
                ),
                by_phone=await self._existing(
                    "phone", sorted({r.fields["phone"] for r in retry if r.fields.get("phone")})
                ),
                by_dup=plan.by_dup,
                updates=plan.updates,
            )
            for row in sorted(retry, key=lambda r: r.line):
                stored.place(row, self._new_doc(job_id, row, by, now))
            for row, doc in stored.waiting:
                stored.settle(row, {**doc, "_new": True})
            late = await self._insert(stored.creates, correlation_id)
            created += len(stored.creates) - len(late)
            for row, doc in stored.creates:
                if doc["_id"] in late:
                    field = "email" if doc.get("email") else "phone"
                    other = await self.members.find_one({field: doc.get(field)}, _MATCH_FIELDS)
                    stored.errors.append(_duplicate(row.line, field, other or {"_id": "?", "full_name": "?"}))
            plan.errors += stored.errors
            plan.unchanged += stored.unchanged
        errors += plan.errors
        updated = await self._update(plan.updates, by=by, correlation_id=correlation_id)
        if created or updated:
            self.relay.notify()
        if errors:
            await self.errors.insert_many(
                [
                    {
                        "_id": f"{job_id}:{e.line}:{i}",
                        "job_id": job_id,
                        "line": e.line,
                        "column": e.column,
                        "code": e.code,
                        "params": e.params,
                    }
                    for i, e in enumerate(errors)
                ],
                ordered=False,
            )
        return {
            "rows": len(batch),
            "created": created,
            "updated": updated,
            "unchanged": plan.unchanged,
            "rejected": len({e.line for e in errors}),
        }

    def _new_doc(self, job_id: str, row: ParsedRow, by: str, now) -> dict[str, Any]:
        doc = new_member_document(
            str(uuid.uuid4()),
            row.fields,
            status="active",
            by=by,
            now=now,
            consent_source="import",
            years=self.term_years,
        )
        doc["import_job_id"] = job_id
        return doc

    async def _insert(self, creates: list[tuple[ParsedRow, dict[str, Any]]], correlation_id: str | None) -> set[str]:
        """Insert new members with their events; the ids the unique indexes refused."""
        if not creates:
            return set()
        docs = [with_events(doc, event(MemberUpdated(**contact(doc)), correlation_id)) for _, doc in creates]
        try:
            await self.members.insert_many(docs, ordered=False)
            return set()
        except BulkWriteError as exc:
            return {creates[e["index"]][1]["_id"] for e in exc.details.get("writeErrors", [])}

    async def _update(
        self, updates: dict[str, tuple[dict[str, Any], dict[str, Any]]], *, by: str, correlation_id: str | None
    ) -> int:
        if not updates:
            return 0
        now = now_utc()
        ops = []
        for member_id, (doc, change) in updates.items():
            changes = {k: {"from": doc.get(k), "to": v} for k, v in change.items()}
            hid, entry = history_entry("imported", by, changes)
            merged = {**doc, **change}
            set_ = {
                **change,
                "updated_at": now,
                f"history.{hid}": entry,
                **derived_keys(member_id, merged["full_name"], merged.get("date_of_birth")),
            }
            if "expertise" in change:
                set_["expertise_key"] = fold(change["expertise"])
            ops.append(
                UpdateOne(
                    {"_id": member_id},
                    push_events(
                        {"$set": set_, "$inc": {"version": 1}},
                        event(MemberUpdated(**contact(merged), changed_fields=sorted(change)), correlation_id),
                    ),
                )
            )
        try:
            result = await self.members.bulk_write(ops, ordered=False)
            return result.modified_count
        except BulkWriteError as exc:
            return exc.details.get("nModified", 0)

    def _view(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A job as callers see it; one whose replica stopped beating is shown interrupted
        (importing the same file again finishes it: rows already in are recognised)."""
        job = from_store(doc)
        job["id"] = job.pop("_id")
        if job["state"] in ("queued", "running") and epoch() - float(job.get("heartbeat") or 0) > STALE_SECONDS:
            job["state"] = "interrupted"
        for key in ("created_epoch", "heartbeat"):
            job.pop(key, None)
        return job

    async def recent(self, *, created_by: str | None, limit: int) -> list[dict[str, Any]]:
        """The latest imports (one person's, or everyone's), newest first, without their rows."""
        query = {"created_by": created_by} if created_by else {}
        docs = await self.jobs.find(query).sort("created_epoch", -1).limit(limit).to_list()
        return [{k: v for k, v in self._view(doc).items() if k != "error"} for doc in docs]

    async def report(self, job_id: str, *, lang: str, limit: int, after_line: int | None) -> dict[str, Any] | None:
        job = await self.jobs.find_one({"_id": job_id})
        if job is None:
            return None
        query: dict[str, Any] = {"job_id": job_id}
        if after_line is not None:
            query["line"] = {"$gt": after_line}
        docs = await self.errors.find(query).sort("line", 1).limit(limit + 1).to_list()
        more = len(docs) > limit
        docs = docs[:limit]
        out = self._view(job)
        out["errors"] = [
            {
                "line": d["line"],
                "column": d["column"],
                "code": d["code"],
                "reason": render(d["code"], lang, **d.get("params", {})),
                **_member_ref(d),
            }
            for d in docs
        ]
        out["errors_next_after_line"] = docs[-1]["line"] if more else None
        if job.get("error"):
            out["error"] = {
                "code": job["error"]["code"],
                "reason": render(job["error"]["code"], lang, **job["error"].get("params", {})),
            }
        return out


class _Plan:
    """Where each good row of a batch goes: a new member, an update of a stored one,
    nothing (unchanged), or a refusal naming the member who has its email or phone."""

    def __init__(
        self,
        *,
        by_email: dict | None = None,
        by_phone: dict | None = None,
        by_dup: dict | None = None,
        updates: dict | None = None,
    ) -> None:
        self.by_email: dict[str, dict[str, Any]] = by_email or {}
        self.by_phone: dict[str, dict[str, Any]] = by_phone or {}
        self.by_dup: dict[str, dict[str, Any]] = by_dup or {}
        self.creates: list[tuple[ParsedRow, dict[str, Any]]] = []
        self.waiting: list[tuple[ParsedRow, dict[str, Any]]] = []  # rows meeting a member new in this batch
        self.updates: dict[str, tuple[dict[str, Any], dict[str, Any]]] = updates if updates is not None else {}
        self.errors: list[RowError] = []
        self.unchanged = 0

    def place(self, row: ParsedRow, new_doc: dict[str, Any]) -> None:
        f = row.fields
        m_email = self.by_email.get(f["email"]) if f.get("email") else None
        m_phone = self.by_phone.get(f["phone"]) if f.get("phone") else None
        if m_email and m_phone and m_email["_id"] != m_phone["_id"]:
            self.errors.append(_duplicate(row.line, "phone", m_phone))
            return
        match = m_email or m_phone
        if match is None and not f.get("email") and not f.get("phone"):
            match = self.by_dup.get(_dup_key(f))
        if match is None:
            self.creates.append((row, new_doc))
            for key, index in (("email", self.by_email), ("phone", self.by_phone)):
                if new_doc.get(key):
                    index[new_doc[key]] = {**new_doc, "_pending": True}
            if not new_doc.get("email") and not new_doc.get("phone"):
                self.by_dup[new_doc["dup_key"]] = {**new_doc, "_pending": True}
        elif match.get("_pending"):
            self.waiting.append((row, match))
        else:
            self.settle(row, match, "email" if m_email else "phone")

    def settle(self, row: ParsedRow, match: dict[str, Any], field: str | None = None) -> None:
        """The row names a stored member (or one created in this batch)."""
        f = row.fields
        if field is None:
            field = "email" if f.get("email") and f.get("email") == match.get("email") else "phone"
        if match.get("name_key") != fold(f["full_name"]):
            self.errors.append(_duplicate(row.line, field, match))
            return
        if match.get("_new"):
            self.unchanged += 1  # the same person twice in one file
            return
        pending = self.updates.get(match["_id"], (match, {}))[1]
        change = _changes(match, f, pending)
        if not change:
            self.unchanged += 1
            return
        self.updates[match["_id"]] = (match, {**pending, **change})
        for key, index in (("email", self.by_email), ("phone", self.by_phone)):
            if change.get(key):
                index[change[key]] = match


def _dup_key(fields: dict[str, Any]) -> str:
    dob = fields.get("date_of_birth")
    return derived_keys("", fields["full_name"], dob.isoformat() if isinstance(dob, date) else dob)["dup_key"]


def _duplicate(line: int, field: str, existing: dict[str, Any]) -> RowError:
    column = {"email": "Email", "phone": "Điện thoại"}[field]
    return RowError(
        line,
        column,
        f"duplicate_{field}",
        {"member_id": existing["_id"], "member_name": existing.get("full_name", ERASED_NAME)},
    )


def _member_ref(error_doc: dict[str, Any]) -> dict[str, Any]:
    member_id = (error_doc.get("params") or {}).get("member_id")
    return {"existing_member_id": member_id} if member_id else {}


def _changes(doc: dict[str, Any], fields: dict[str, Any], pending: dict[str, Any]) -> dict[str, Any]:
    """What a row says that the member's record does not (empty cells change nothing;
    organisations are added, never removed)."""
    current = {**doc, **pending}
    change: dict[str, Any] = {}
    for key in _UPDATABLE:
        value = fields.get(key)
        if isinstance(value, date):
            value = value.isoformat()
        if value in (None, "", []):
            continue
        if current.get(key) != value:
            change[key] = value
    orgs = list(current.get("organization_ids") or [])
    added = [o for o in fields.get("organization_ids") or [] if o not in orgs]
    if added:
        change["organization_ids"] = orgs + added
    return change


# --- organisations -------------------------------------------------------------------


async def import_organizations(
    path: str, orgs: OrganizationStore, *, by: str, correlation_id: str | None, lang: str
) -> dict[str, Any]:
    """Create or update organisations from a small CSV/XLSX; parents are placed before children."""
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    for line, record in await asyncio.to_thread(
        lambda: list(read_records(path, ORG_COLUMNS, ("code", "name", "kind")))
    ):

        def cell(name: str, record: dict[str, tuple[str, Any]] = record) -> str:
            return str(record[name][1] or "").strip() if name in record else ""

        code, kind_text = normalise_code(cell("code")), cell("kind")
        kind = ORG_KINDS.get(fold(kind_text))
        if not CODE.match(code):
            errors.append(RowError(line, record["code"][0], "code_invalid", {"value": cell("code")}))
            continue
        if kind is None:
            errors.append(RowError(line, record["kind"][0], "kind_unknown", {"value": kind_text}))
            continue
        if not cell("name"):
            errors.append(RowError(line, record["name"][0], "value_missing"))
            continue
        rows.append(
            {
                "line": line,
                "code": code,
                "name": cell("name"),
                "kind": kind,
                "parent_code": normalise_code(cell("parent_code")) or None,
                "parent_header": record.get("parent_code", ("parent", None))[0],
                "contact_email": cell("contact_email").lower() or None,
                "contact_phone": cell("contact_phone") or None,
                "address": cell("address") or None,
            }
        )
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in import_order(rows):
        ids = await orgs.codes()
        parent_id = ids.get(row["parent_code"]) if row["parent_code"] else None
        if row["parent_code"] and parent_id is None:
            errors.append(RowError(row["line"], row["parent_header"], "parent_unknown", {"value": row["parent_code"]}))
            continue
        data = {k: row[k] for k in ("code", "name", "kind", "contact_email", "contact_phone", "address")}
        data["parent_id"] = parent_id
        try:
            outcome, _ = await orgs.upsert_from_import(data, by=by, correlation_id=correlation_id)
        except InvalidPlacement as exc:
            errors.append(RowError(row["line"], row["parent_header"], "placement_invalid", {"detail": exc.detail}))
            continue
        except Exception as exc:  # a pydantic error on contacts, or a clash: the row is refused, others go on
            errors.append(RowError(row["line"], "", "placement_invalid", {"detail": str(exc).splitlines()[0]}))
            continue
        counts[outcome] += 1
    errors.sort(key=lambda e: e.line)
    return {
        **counts,
        "rejected": len({e.line for e in errors}),
        "errors": [
            {"line": e.line, "column": e.column, "code": e.code, "reason": render(e.code, lang, **e.params)}
            for e in errors
        ],
    }
