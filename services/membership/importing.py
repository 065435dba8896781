"""Bulk import of members (and organisations) from the spreadsheets staff have.

A member import is a job: the upload is spooled to a temporary file, then read a
batch at a time (never whole), each row cleaned (spreadsheets.py), matched against
the members already held, and written with one bulk insert and one bulk update per
batch. The job document counts rows as they go, so callers follow its progress; each
rejected row is stored with its line, column, reason code and its cells as written,
rendered in Vietnamese or English when the report is read, and downloadable to fix.

Running the same file again creates nothing: a row whose email or phone (or, with
neither, whose name and date of birth) belongs to a member with the same name is
that member, updated if the row says something new. An import creates members only
in, and updates members only of, the importer's reach: a row whose email or phone
belongs to someone else — or to a member outside that reach — is refused, naming the
member only when the importer reaches them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

from services.membership import lifecycle
from services.membership.catalogue import MESSAGES, reason
from services.membership.changing import event
from services.membership.endpoints import normalise_code
from services.membership.matching import ImportPlan, changed_fields, dup_key_of
from services.membership.members import contact, derived_keys, history_entry, new_member
from services.membership.organizations import Organizations
from services.membership.reach import Deps
from services.membership.spreadsheets import (
    MEMBER_COLUMNS,
    ORG_COLUMNS,
    ORG_KINDS,
    ParsedRow,
    RowError,
    TooBig,
    UnreadableFile,
    check_workbook,
    count_rows,
    parse_member_row,
    read_records,
)
from services.membership.store import ImportErrorDoc, ImportJobDoc, MemberDoc
from services.membership.tree import CODE, InvalidPlacement, import_order
from shared.access import Reach
from shared.clock import epoch, now_utc
from shared.contracts import Envelope, MemberUpdated
from shared.errors import FieldError, Problem
from shared.identity import Identity
from shared.logging import get_logger
from shared.mongo import from_store
from shared.text import InvalidPhone, fold, normalise_phone

log = get_logger(__name__)

STALE_SECONDS = 300.0  # a running import writes after every batch; silence this long means its replica is gone
_MATCH_FIELDS = {
    k: 1
    for k in (
        "_id",
        "full_name",
        "name_key",
        "email",
        "phone",
        "date_of_birth",
        "gender",
        "titles",
        "expertise",
        "organization_ids",
        "status",
        "language",
        "consents",
        "dup_key",
    )
}


def _batches(
    records: Iterator, orgs_by_code: dict[str, str], reach: Reach, today: date, size: int
) -> Iterator[list[ParsedRow]]:
    allowed = reach.within(None)
    while True:
        chunk = list(itertools.islice(records, size))
        if not chunk:
            return
        yield [parse_member_row(line, record, orgs_by_code, today, allowed) for line, record in chunk]


def _error_doc(job_id: str, number: int, error: RowError, row: ParsedRow | None) -> ImportErrorDoc:
    doc: ImportErrorDoc = {
        "_id": f"{job_id}:{error.line}:{number}",
        "job_id": job_id,
        "line": error.line,
        "column": error.column,
        "code": error.code,
        "params": error.params,
    }
    if row is not None:
        doc["cells"] = row.cells
        doc["search"] = _searchable(row)
    return doc


def _searchable(row: ParsedRow) -> list[str]:
    """The row's cells and clean fields, as written, lower-cased, folded and (for phone
    numbers) in E.164: what erasure looks for."""
    written = [str(v).strip() for v in row.cells.values() if v is not None]
    cleaned = [v for v in (row.fields or {}).values() if isinstance(v, str)]
    held = {v for v in written + cleaned if v}
    return sorted(held.union(*(_variants(value) for value in held)))


def _variants(value: str) -> set[str]:
    out = {value.lower(), fold(value)}
    if sum(c.isdigit() for c in value) >= 6:
        try:
            out.add(normalise_phone(value))
        except InvalidPhone:
            pass
    return out


class MemberImports:
    def __init__(self, deps: Deps, *, batch_size: int = 1000) -> None:
        self.deps = deps
        self.batch_size = batch_size
        self.tasks: set[asyncio.Task] = set()

    # --- the job --------------------------------------------------------------------------

    async def create_job(self, who: Identity, *, filename: str | None, size: int) -> ImportJobDoc:
        now = now_utc()
        reach = await self.deps.reach(who)
        job: ImportJobDoc = {
            "_id": str(uuid.uuid4()),
            "state": "queued",
            "filename": filename,
            "bytes": size,
            "created_by": who.sub,
            "reach": reach.as_list(),
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
        await self.deps.imports.add(job)
        return job

    async def begin(
        self, who: Identity, path: str, *, filename: str | None, size: int, correlation_id: str | None
    ) -> tuple[ImportJobDoc, asyncio.Task]:
        """Check the upload, make its job and start it (the file is the job's from here)."""
        await refuse_bombs(path)
        job = await self.create_job(who, filename=filename, size=size)
        return job, self.start(job["_id"], path, who=who, correlation_id=correlation_id)

    def start(self, job_id: str, path: str, *, who: Identity, correlation_id: str | None) -> asyncio.Task:
        task = asyncio.create_task(self.run(job_id, path, who=who, correlation_id=correlation_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def run(self, job_id: str, path: str, *, who: Identity, correlation_id: str | None) -> None:
        """Import the file at `path` into job `job_id` (and remove the file)."""
        jobs = self.deps.imports
        await jobs.set(job_id, {"state": "running", "updated_at": now_utc(), "heartbeat": epoch()})
        try:
            await self._read_and_write(job_id, path, who, correlation_id)
            await jobs.set(job_id, {"state": "done", "finished_at": now_utc()})
        except UnreadableFile as exc:
            await self._failed(job_id, exc.code, exc.value)
        except asyncio.CancelledError:
            await asyncio.shield(jobs.set(job_id, {"state": "interrupted", "finished_at": now_utc()}))
            raise
        except Exception as exc:
            log.exception("import.failed", job_id=job_id)
            await self._failed(job_id, "file_unreadable", type(exc).__name__)
        finally:
            _remove(path)
        job = await jobs.get(job_id)
        if job is not None:
            counts = {k: job[k] for k in ("rows", "created", "updated", "rejected")}
            log.info("import.finished", job_id=job_id, state=job["state"], **counts)

    async def _failed(self, job_id: str, code: str, value: str) -> None:
        error = {"code": code, "params": {"value": value}}
        await self.deps.imports.set(job_id, {"state": "failed", "error": error, "finished_at": now_utc()})

    async def _read_and_write(self, job_id: str, path: str, who: Identity, correlation_id: str | None) -> None:
        reach = await self.deps.reach(who)
        total = await asyncio.to_thread(count_rows, path)
        if total is not None:
            await self.deps.imports.set(job_id, {"total_rows": total})
        orgs_by_code = await self.deps.orgs.codes()
        today = lifecycle.local_today(now_utc())
        records = read_records(path, MEMBER_COLUMNS, required=("full_name",))
        batches = _batches(records, orgs_by_code, reach, today, self.batch_size)
        # The next batch is read and checked in a thread while this one is written.
        reading = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
        while (batch := await reading) is not None:
            reading = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
            counts = await BatchWrite(self.deps, job_id, who.sub, reach, correlation_id).write(batch)
            progress = {"last_line": batch[-1].line, "updated_at": now_utc(), "heartbeat": epoch()}
            await self.deps.imports.set(job_id, progress, counts)

    # --- reading the job ---------------------------------------------------------------------

    async def recent(self, who: Identity, limit: int) -> dict[str, Any]:
        """The latest imports (a manager's own; an admin's: everyone's), without their rows."""
        docs = await self.deps.imports.recent(None if who.is_admin else who.sub, limit)
        return {"items": [{k: v for k, v in _view(doc).items() if k != "error"} for doc in docs]}

    async def report(
        self, who: Identity, job_id: str, *, lang: str, limit: int, after_line: int | None
    ) -> dict[str, Any]:
        job = await self.deps.import_job(who, job_id)
        docs = await self.deps.imports.errors_page(job_id, after_line=after_line, limit=limit + 1)
        out = _view(job)
        out["errors"] = [_rejection(d, lang) for d in docs[:limit]]
        out["errors_next_after_line"] = docs[limit - 1]["line"] if len(docs) > limit else None
        if job.get("error"):
            error = job["error"]
            out["error"] = {"code": error["code"], "reason": reason(error["code"], lang, **error.get("params", {}))}
        return out


async def refuse_bombs(path: str) -> None:
    """A workbook that would unpack beyond the bounds is refused before any parsing:
    413 for its size, 422 for its number of strings (and the file removed)."""
    try:
        await asyncio.to_thread(check_workbook, path)
    except TooBig as exc:
        _remove(path)
        status, code = (
            (413, "payload-too-large") if exc.code == "file_too_large_unpacked" else (422, "too-many-strings")
        )
        message = MESSAGES(f"membership.row.{exc.code}", limit=exc.limit)
        raise Problem(
            status,
            code,
            MESSAGES("membership.unreadable_file"),
            message,
            errors=[FieldError("file", message, exc.code)],
            limit=exc.limit,
        ) from None


def _values(rows: list[ParsedRow], field: str) -> list[str]:
    return [str(r.fields[field]) for r in rows if r.fields and r.fields.get(field)]


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _view(doc: ImportJobDoc) -> dict[str, Any]:
    """A job as callers see it; one whose replica stopped beating is shown interrupted
    (importing the same file again finishes it: rows already in are recognised)."""
    job = from_store(dict(doc))
    job["id"] = job.pop("_id")
    if job["state"] in ("queued", "running") and epoch() - float(job.get("heartbeat") or 0) > STALE_SECONDS:
        job["state"] = "interrupted"
    for key in ("created_epoch", "heartbeat", "reach"):
        job.pop(key, None)
    return job


def _rejection(doc: ImportErrorDoc, lang: str) -> dict[str, Any]:
    params = doc.get("params") or {}
    out = {
        "line": doc["line"],
        "column": doc["column"],
        "code": doc["code"],
        "reason": reason(doc["code"], lang, **params),
    }
    if params.get("member_id"):
        out["existing_member_id"] = params["member_id"]
    return out


class BatchWrite:
    """One batch of rows, checked, matched and written in named steps. Optimistic: new
    rows are inserted straight away and the unique indexes on email and phone say which
    belong to someone already; only those rows are then looked up (a fresh import reads
    nothing)."""

    def __init__(self, deps: Deps, job_id: str, by: str, reach: Reach, correlation_id: str | None) -> None:
        self.deps = deps
        self.job_id = job_id
        self.by = by
        self.reach = reach
        self.correlation_id = correlation_id
        self.now = now_utc()
        self.created = 0

    async def write(self, batch: list[ParsedRow]) -> dict[str, int]:
        good = [row for row in batch if row.fields is not None]
        plan = await self._plan_against_batch(good)
        clashed = await self._insert(plan)
        retry = plan.settle_inserted(clashed)
        if retry:
            await self._match_stored(plan, retry)
        updated = await self._update(plan)
        errors = [(e, row) for row in batch for e in row.errors] + plan.errors
        await self._record_errors(errors)
        return {
            "rows": len(batch),
            "created": self.created,
            "updated": updated,
            "unchanged": plan.unchanged,
            "rejected": len({e.line for e, _ in errors}),
        }

    def _new_doc(self, row: ParsedRow) -> MemberDoc:
        assert row.fields is not None
        doc = new_member(
            str(uuid.uuid4()),
            row.fields,
            status="active",
            by=self.by,
            now=self.now,
            consent_source="import",
            years=self.deps.term_years,
        )
        doc["import_job_id"] = self.job_id
        return doc

    async def _plan_against_batch(self, good: list[ParsedRow]) -> ImportPlan:
        """Step 1: rows without email or phone matched by name and birth date; every
        other row planned as new, or as meeting a member new earlier in this batch."""
        no_contact = [r.fields for r in good if r.fields and not r.fields.get("email") and not r.fields.get("phone")]
        by_dup = await self._stored("dup_key", [dup_key_of(f) for f in no_contact])
        plan = ImportPlan(self.reach, by_dup=by_dup)
        for row in good:
            plan.place(row, self._new_doc(row))
        return plan

    async def _insert(self, plan: ImportPlan) -> set[str]:
        """Step 2: insert the planned new members; the ids the unique indexes turned away."""
        docs = [(doc, self._announce(doc)) for _, doc in plan.creates]
        clashed = await self.deps.members.add_many(docs)
        self.created += len(docs) - len(clashed)
        return clashed

    async def _match_stored(self, plan: ImportPlan, retry: list[ParsedRow]) -> None:
        """Step 3: rows the indexes turned away, matched against the stored members."""
        stored = plan.again(
            by_email=await self._stored("email", _values(retry, "email")),
            by_phone=await self._stored("phone", _values(retry, "phone")),
        )
        for row in sorted(retry, key=lambda r: r.line):
            stored.place(row, self._new_doc(row))
        stored.settle_waiting()
        late = await self._insert(stored)
        for row, doc in stored.creates:
            if doc["_id"] in late:  # taken meanwhile by another import or a new member
                await self._refuse_late(stored, row, doc)
        plan.absorb(stored)

    async def _refuse_late(self, plan: ImportPlan, row: ParsedRow, doc: MemberDoc) -> None:
        field = "email" if doc.get("email") else "phone"
        holder = await self.deps.members.holder(field, doc.get(field))
        plan.refuse(row, field, holder or {"_id": "?", "full_name": "?"})

    async def _update(self, plan: ImportPlan) -> int:
        """Step 4: what the rows say that matched members' records do not, in one bulk write."""
        writes = []
        for member_id, (doc, change) in plan.updates.items():
            changes = {k: {"from": doc.get(k), "to": v} for k, v in change.items()}
            hid, entry = history_entry("imported", self.by, changes)
            merged = {**doc, **change}
            set_ = {
                **change,
                "updated_at": self.now,
                f"history.{hid}": entry,
                **derived_keys(member_id, merged["full_name"], merged.get("date_of_birth")),
            }
            if "expertise" in change:
                set_["expertise_key"] = fold(change["expertise"])
            envelope = event(
                MemberUpdated(**contact(merged), changed_fields=changed_fields(change)), self.correlation_id
            )
            writes.append((doc, {"$set": set_}, envelope))
        return await self.deps.members.change_many(writes)

    async def _record_errors(self, errors: list[tuple[RowError, ParsedRow | None]]) -> None:
        """Step 5: each rejected row with its reason and its cells as written."""
        await self.deps.imports.add_errors([_error_doc(self.job_id, i, e, row) for i, (e, row) in enumerate(errors)])

    def _announce(self, doc: MemberDoc) -> Envelope:
        return event(MemberUpdated(**contact(doc)), self.correlation_id)

    async def _stored(self, field: str, values: list[str]) -> dict[str, MemberDoc]:
        docs = await self.deps.members.matching(field, values, _MATCH_FIELDS)
        return {d[field]: d for d in docs if d.get("status") != "erased"}  # type: ignore[literal-required]


# --- organisations -------------------------------------------------------------------


def _org_rows(path: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    """The clean rows of an organisations file, and the rows refused."""
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    for line, record in read_records(path, ORG_COLUMNS, ("code", "name", "kind")):

        def cell(name: str, record: dict[str, tuple[str, Any]] = record) -> str:
            return str(record[name][1] or "").strip() if name in record else ""

        code, kind_text = normalise_code(cell("code")), cell("kind")
        kind = ORG_KINDS.get(fold(kind_text))
        if not CODE.match(code):
            errors.append(RowError(line, record["code"][0], "code_invalid", {"value": cell("code")}))
        elif kind is None:
            errors.append(RowError(line, record["kind"][0], "kind_unknown", {"value": kind_text}))
        elif not cell("name"):
            errors.append(RowError(line, record["name"][0], "value_missing"))
        else:
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
    return rows, errors


async def _import_organization(
    row: dict[str, Any], organizations: Organizations, who: Identity, correlation_id: str | None
) -> str | RowError:
    """One organisation row: 'created', 'updated', 'unchanged', or why it was refused."""
    ids = await organizations.deps.orgs.codes()
    parent_id = ids.get(row["parent_code"]) if row["parent_code"] else None
    if row["parent_code"] and parent_id is None:
        return RowError(row["line"], row["parent_header"], "parent_unknown", {"value": row["parent_code"]})
    data = {k: row[k] for k in ("code", "name", "kind", "contact_email", "contact_phone", "address")}
    data["parent_id"] = parent_id
    try:
        return await organizations.upsert(data, correlation_id, who)
    except InvalidPlacement as exc:
        return RowError(row["line"], row["parent_header"], "placement_invalid", {"detail": exc.detail})
    except Exception as exc:  # a pydantic error on contacts, or a clash: the row is refused, others go on
        return RowError(row["line"], "", "placement_invalid", {"detail": str(exc).splitlines()[0]})


async def import_organizations(
    path: str, organizations: Organizations, who: Identity, *, correlation_id: str | None, lang: str
) -> dict[str, Any]:
    """Create or update organisations from a small CSV/XLSX (removed afterwards); parents
    are placed before their children."""
    await refuse_bombs(path)
    try:
        rows, errors = await asyncio.to_thread(_org_rows, path)
    except UnreadableFile as exc:
        message = MESSAGES(f"membership.row.{exc.code}", value=exc.value)
        raise Problem(
            422,
            "unreadable-file",
            MESSAGES("membership.unreadable_file"),
            message,
            errors=[FieldError("file", message, exc.code)],
        ) from None
    finally:
        _remove(path)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in import_order(rows):
        outcome = await _import_organization(row, organizations, who, correlation_id)
        if isinstance(outcome, RowError):
            errors.append(outcome)
        else:
            counts[outcome] += 1
    errors.sort(key=lambda e: e.line)
    return {
        **counts,
        "rejected": len({e.line for e in errors}),
        "errors": [
            {"line": e.line, "column": e.column, "code": e.code, "reason": reason(e.code, lang, **e.params)}
            for e in errors
        ],
    }
