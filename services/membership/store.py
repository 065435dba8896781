"""Organisations and members in MongoDB. Every write that causes events carries
them (outbox); every change to a member carries its history entry in the same write.

Shapes chosen for the embedded store: history and dues are maps of JSON strings
keyed by sortable ids (never sub-documents pushed into arrays); folded search keys,
sort keys and due times (epoch numbers) are stored and indexed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.membership import lifecycle
from services.membership.members import (
    DuplicateMember,
    InvalidPhone,
    MemberIn,
    MemberPatch,
    is_young_intellectual,
    normalise_phone,
    young_cutoff,
)
from services.membership.organizations import (
    DuplicateOrganization,
    InvalidPlacement,
    OrganizationIn,
    OrganizationInUse,
    OrganizationPatch,
    check_move,
    check_placement,
    depth_of,
    subtree_ids,
)
from services.membership.vietnamese import fold, name_sort_key, search_pattern
from shared.contracts import (
    DuesPayment,
    Envelope,
    MemberApplied,
    MemberApproved,
    MemberErased,
    MembershipExpiring,
    MembershipLapsed,
    MembershipRenewed,
    MemberUpdated,
    OrganizationCreated,
    OrganizationUpdated,
    new_event,
)
from shared.http import DomainError, NotFound
from shared.mongo import IndexSpec, duplicate_key, epoch, from_store
from shared.outbox import OutboxRelay, push_events, strip_outbox, with_events
from shared.scheduler import due_item_indexes

ORGS = "organizations"
MEMBERS = "members"
IMPORTS = "member_imports"
IMPORT_ERRORS = "member_import_errors"
SCHEDULE = "membership_schedule"
PRODUCER = "membership"
INDEXES = [
    IndexSpec(ORGS, [("code", 1)], unique=True),
    IndexSpec(MEMBERS, [("email", 1)], unique=True, sparse=True),
    IndexSpec(MEMBERS, [("phone", 1)], unique=True, sparse=True),
    IndexSpec(MEMBERS, [("sort_key", 1)]),  # name order, unique by the id it ends with
    # No index on name_key (searched by regular expression, which no index serves) or dup_key
    # (read only for import rows with neither email nor phone): each index slows every insert.
    IndexSpec(MEMBERS, [("organization_ids", 1)]),
    IndexSpec(MEMBERS, [("next_notice_epoch", 1)]),
    IndexSpec(IMPORT_ERRORS, [("job_id", 1), ("line", 1)]),
    *due_item_indexes(SCHEDULE),
]
ERASED_NAME = "[đã xoá]"
# Internal fields never shown as they are stored.
_INTERNAL = {
    "version",
    "name_key",
    "sort_key",
    "dup_key",
    "expertise_key",
    "next_notice",
    "next_notice_epoch",
    "history",
    "dues",
    "term_start",
    "term_end",
}
CONTACT_FIELDS = ("full_name", "email", "phone", "language", "consents", "organization_ids", "date_of_birth")


class OutsideYourOrganization(DomainError):
    status, code, title = 403, "outside-your-organization", "Outside the organisations you manage"


class InvalidOrganization(DomainError):
    status, code, title = 422, "unknown-organization", "No such organisation"


def now_utc() -> datetime:
    return datetime.now(UTC)


def history_entry(
    action: str, by: str, changes: dict[str, Any] | None = None, note: str | None = None
) -> tuple[str, str]:
    """(sortable id, JSON) of one history entry: who did what when."""
    hid = f"{time.time_ns():020d}{uuid.uuid4().hex[:6]}"
    entry = {"at": now_utc().isoformat(), "by": by, "action": action}
    if changes:
        entry["changes"] = changes
    if note:
        entry["note"] = note
    return hid, json.dumps(entry, ensure_ascii=False, default=str)


def derived_keys(member_id: str, full_name: str, date_of_birth: str | None) -> dict[str, Any]:
    name_key = fold(full_name)
    return {
        "name_key": name_key,
        "sort_key": f"{name_sort_key(full_name)} {member_id}",
        "dup_key": f"{name_key}|{date_of_birth or ''}",
    }


def term_fields(start: date, end: date, now: float, after: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"term_start": start.isoformat(), "term_end": end.isoformat()}
    upcoming = lifecycle.next_notice(end, now, after)
    fields["next_notice"], fields["next_notice_epoch"] = upcoming if upcoming else (None, None)
    return fields


def new_member_document(
    member_id: str, fields: dict[str, Any], *, status: str, by: str, now: datetime, consent_source: str, years: int
) -> dict[str, Any]:
    """A member as stored, from clean fields (MemberIn or an import row)."""
    dob = fields.get("date_of_birth")
    dob_text = dob.isoformat() if isinstance(dob, date) else dob
    consents = fields.get("consents") or {"email": True, "sms": False}
    doc: dict[str, Any] = {
        "_id": member_id,
        **{k: v for k, v in fields.items() if v not in (None, [], "") and k not in ("date_of_birth", "consent_source")},
        "consents": consents,
        "consent_records": {
            ch: {"granted": bool(v), "at": now.isoformat(), "source": consent_source} for ch, v in consents.items()
        },
        "organization_ids": list(fields.get("organization_ids") or []),
        "language": fields.get("language") or "vi",
        "status": status,
        "version": 1,
        "created_at": now,
        "created_by": by,
        "updated_at": now,
        **derived_keys(member_id, fields["full_name"], dob_text),
    }
    if dob_text:
        doc["date_of_birth"] = dob_text
    if fields.get("expertise"):
        doc["expertise_key"] = fold(fields["expertise"])
    if status == "active":
        start, end = lifecycle.first_term(lifecycle.local_today(now), years)
        doc.update(term_fields(start, end, now.timestamp()), dues_state="unpaid", approved_at=now, approved_by=by)
        doc = {k: v for k, v in doc.items() if v is not None}
    hid, entry = history_entry("created" if status == "active" else "applied", by)
    doc["history"] = {hid: entry}
    return doc


def contact(doc: dict[str, Any]) -> dict[str, Any]:
    """What MemberContact events carry, from a stored member."""
    return {
        "member_id": doc["_id"],
        "full_name": doc.get("full_name", ERASED_NAME),
        "email": doc.get("email"),
        "phone": doc.get("phone"),
        "language": doc.get("language", "vi"),
        "consents": {k: bool(v) for k, v in (doc.get("consents") or {}).items()},
        "organization_ids": list(doc.get("organization_ids") or []),
        "status": doc["status"],
        "date_of_birth": doc.get("date_of_birth"),
    }


def event(model: Any, correlation_id: str | None) -> Envelope:
    return new_event(model, producer=PRODUCER, correlation_id=correlation_id)


def public_member(doc: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """A stored member as the API shows it."""
    out = from_store(strip_outbox(doc))
    out["id"] = out.pop("_id")
    out["consents"] = {k: bool(v) for k, v in (out.get("consents") or {}).items()}
    out["consent_records"] = {
        k: {**v, "granted": bool(v.get("granted"))} for k, v in (out.get("consent_records") or {}).items()
    }
    dob = out.get("date_of_birth")
    today = today or lifecycle.local_today(now_utc())
    out["young_intellectual"] = is_young_intellectual(date.fromisoformat(dob) if dob else None, today)
    if out.get("term_start") and out.get("term_end"):
        out["term"] = {"start": out["term_start"], "end": out["term_end"]}
    return {k: v for k, v in out.items() if v is not None and k not in _INTERNAL}


def public_history(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(doc["history"][k]) for k in sorted(doc.get("history") or {})]


@dataclass(frozen=True)
class MemberFilter:
    q: str | None = None
    organization_ids: frozenset[str] | None = None  # any of these (subtree already expanded)
    status: str | None = None
    expertise: str | None = None
    title: str | None = None
    young: bool | None = None
    dues_state: str | None = None


class OrganizationStore:
    def __init__(self, db: AsyncDatabase, relay: OutboxRelay) -> None:
        self.orgs = db[ORGS]
        self.members = db[MEMBERS]
        self.relay = relay

    async def all(self) -> list[dict[str, Any]]:
        return [d async for d in self.orgs.find({}, {"_outbox": 0})]

    async def parent_map(self) -> dict[str, str | None]:
        return {d["_id"]: d.get("parent_id") async for d in self.orgs.find({}, {"parent_id": 1})}

    async def codes(self) -> dict[str, str]:
        """code → id of every organisation."""
        return {d["code"]: d["_id"] async for d in self.orgs.find({}, {"code": 1})}

    async def get(self, org_id: str) -> dict[str, Any]:
        doc = await self.orgs.find_one({"_id": org_id})
        if doc is None:
            raise NotFound(f"No organisation with id {org_id}")
        return doc

    async def subtree(self, org_id: str) -> set[str]:
        parents = await self.parent_map()
        if org_id not in parents:
            raise NotFound(f"No organisation with id {org_id}")
        return subtree_ids(org_id, parents)

    async def scope(self, organization_id: str | None) -> set[str]:
        """The organisations a manager of `organization_id` may see and change."""
        if organization_id is None:
            return set()
        parents = await self.parent_map()
        return subtree_ids(organization_id, parents) if organization_id in parents else set()

    async def create(
        self, body: OrganizationIn, *, by: str, correlation_id: str | None, allowed: set[str] | None = None
    ) -> dict[str, Any]:
        parent = None
        if body.parent_id is not None:
            parent = await self.orgs.find_one({"_id": body.parent_id})
            if parent is None:
                raise InvalidOrganization(f"No parent organisation with id {body.parent_id}", field="parent_id")
        if allowed is not None and (parent is None or parent["_id"] not in allowed):
            raise OutsideYourOrganization("You can add organisations only inside your own", field="parent_id")
        has_root = await self.orgs.find_one({"kind": "federation"}, {"_id": 1}) is not None
        check_placement(body.kind, parent, has_root=has_root)
        now = now_utc()
        org_id = str(uuid.uuid4())
        doc = {
            "_id": org_id,
            **body.model_dump(exclude_none=True),
            "created_at": now,
            "created_by": by,
            "updated_at": now,
        }
        doc["name_key"] = fold(body.name)
        try:
            await self.orgs.insert_one(with_events(doc, event(OrganizationCreated(**_org_event(doc)), correlation_id)))
        except DuplicateKeyError:
            existing = await self.orgs.find_one({"code": body.code}, {"_id": 1})
            raise DuplicateOrganization(
                f"The code {body.code} is taken",
                field="code",
                existing_organization_id=existing["_id"] if existing else None,
            ) from None
        self.relay.notify()
        return doc

    async def update(
        self,
        org_id: str,
        patch: OrganizationPatch,
        *,
        by: str,
        correlation_id: str | None,
        allowed: set[str] | None = None,
    ) -> dict[str, Any]:
        doc = await self.get(org_id)
        if allowed is not None and org_id not in allowed:
            raise OutsideYourOrganization("You can change only your own organisations")
        changes = patch.model_dump(exclude_unset=True)
        if "parent_id" in changes and changes["parent_id"] != doc.get("parent_id"):
            new_parent_id = changes["parent_id"]
            parent = await self.orgs.find_one({"_id": new_parent_id}) if new_parent_id else None
            if new_parent_id is not None and parent is None:
                raise InvalidOrganization(f"No parent organisation with id {new_parent_id}", field="parent_id")
            # A manager moves nodes inside their subtree, never the subtree's own root.
            if allowed is not None and (new_parent_id not in allowed or doc.get("parent_id") not in allowed):
                raise OutsideYourOrganization("You can move organisations only inside your own", field="parent_id")
            check_placement(doc["kind"], parent, has_root=True)
            check_move(org_id, new_parent_id, await self.parent_map())
        elif "parent_id" in changes:
            changes.pop("parent_id")
        if changes.get("status") == "dissolved":
            await self._refuse_if_in_use(org_id)
        if not changes:
            return doc
        changes["updated_at"] = now_utc()
        if "name" in changes:
            changes["name_key"] = fold(changes["name"])
        unset = {k: "" for k, v in changes.items() if v is None}
        update: dict[str, Any] = {"$set": {k: v for k, v in changes.items() if v is not None}}
        if unset:
            update["$unset"] = unset
        merged = {**doc, **changes}
        await self.orgs.update_one(
            {"_id": org_id}, push_events(update, event(OrganizationUpdated(**_org_event(merged)), correlation_id))
        )
        self.relay.notify()
        return await self.get(org_id)

    async def _refuse_if_in_use(self, org_id: str) -> None:
        child = await self.orgs.find_one({"parent_id": org_id, "status": {"$ne": "dissolved"}}, {"_id": 1})
        # $in, not equality: the embedded store finds nothing by equality on an indexed array field.
        member = await self.members.find_one(
            {"organization_ids": {"$in": [org_id]}, "status": {"$ne": "erased"}}, {"_id": 1}
        )
        if child or member:
            raise OrganizationInUse(
                "Move or dissolve its sub-organisations and members first",
                sub_organization_id=child["_id"] if child else None,
                member_id=member["_id"] if member else None,
            )

    async def dissolve(
        self, org_id: str, *, by: str, correlation_id: str | None, allowed: set[str] | None = None
    ) -> dict[str, Any]:
        return await self.update(
            org_id, OrganizationPatch(status="dissolved"), by=by, correlation_id=correlation_id, allowed=allowed
        )

    async def upsert_from_import(
        self, row: dict[str, Any], *, by: str, correlation_id: str | None
    ) -> tuple[str, dict[str, Any]]:
        """Create or update one organisation by code; ('created'|'updated'|'unchanged', doc)."""
        existing = await self.orgs.find_one({"code": row["code"]})
        if existing is None:
            body = OrganizationIn.model_validate({k: v for k, v in row.items() if k != "parent_code"})
            return "created", await self.create(body, by=by, correlation_id=correlation_id)
        # Compare cleaned values (a phone written differently is the same phone).
        sent = OrganizationPatch.model_validate(
            {
                k: v
                for k, v in row.items()
                if k in ("name", "parent_id", "contact_email", "contact_phone", "address") and v is not None
            }
        ).model_dump(exclude_unset=True)
        patch = {k: v for k, v in sent.items() if existing.get(k) != v}
        if existing["kind"] != row["kind"]:
            raise InvalidPlacement(f"{row['code']} is a {existing['kind']}; a kind never changes", field="kind")
        if not patch:
            return "unchanged", existing
        return "updated", await self.update(
            existing["_id"], OrganizationPatch.model_validate(patch), by=by, correlation_id=correlation_id
        )


def _org_event(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "organization_id": doc["_id"],
        "code": doc["code"],
        "name": doc["name"],
        "kind": doc["kind"],
        "parent_id": doc.get("parent_id"),
        "status": doc.get("status", "active"),
        "contact_email": doc.get("contact_email"),
        "contact_phone": doc.get("contact_phone"),
    }


def public_organization(doc: dict[str, Any], parents: dict[str, str | None]) -> dict[str, Any]:
    out = from_store(strip_outbox(doc))
    out["id"] = out.pop("_id")
    out["depth"] = depth_of(out["id"], parents)
    out.pop("name_key", None)
    out.pop("created_by", None)
    return {k: v for k, v in out.items() if v is not None}


class MemberStore:
    def __init__(self, db: AsyncDatabase, relay: OutboxRelay, *, term_years: int = 1) -> None:
        self.members = db[MEMBERS]
        self.orgs = db[ORGS]
        self.relay = relay
        self.term_years = term_years

    # --- reading ----------------------------------------------------------------

    async def raw(self, member_id: str, allowed: set[str] | None = None) -> dict[str, Any]:
        doc = await self.members.find_one({"_id": member_id})
        if doc is None:
            raise NotFound(f"No member with id {member_id}")
        if allowed is not None and not set(doc.get("organization_ids") or []) & allowed:
            raise OutsideYourOrganization("This member belongs to no organisation you manage")
        return doc

    async def get(self, member_id: str, allowed: set[str] | None = None) -> dict[str, Any]:
        return public_member(await self.raw(member_id, allowed))

    async def history(self, member_id: str, allowed: set[str] | None = None) -> list[dict[str, Any]]:
        return public_history(await self.raw(member_id, allowed))

    def query(self, f: MemberFilter, today: date) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if f.q:
            text = f.q.strip()
            if "@" in text:
                query["email"] = text.lower()
            elif sum(c.isdigit() for c in text) >= 6 and not any(c.isalpha() for c in text):
                try:
                    query["phone"] = normalise_phone(text)
                except InvalidPhone:
                    query["phone"] = text
            else:
                query["name_key"] = {"$regex": search_pattern(text)}
        if f.organization_ids is not None:
            query["organization_ids"] = {"$in": sorted(f.organization_ids)}
        query["status"] = f.status if f.status else {"$ne": "erased"}
        if f.expertise:
            query["expertise_key"] = fold(f.expertise)
        if f.title:
            query["titles"] = {"$in": [f.title]}  # see _refuse_if_in_use: arrays are matched with $in
        if f.young is not None:
            cutoff = young_cutoff(today).isoformat()
            query["date_of_birth"] = {"$gt": cutoff} if f.young else {"$lte": cutoff}
        if f.dues_state:
            query["dues_state"] = f.dues_state
        return query

    async def search(
        self, f: MemberFilter, *, limit: int, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page in Vietnamese name order; `after` is the previous page's cursor."""
        today = lifecycle.local_today(now_utc())
        query = self.query(f, today)
        if after:
            query["sort_key"] = {"$gt": after}
        docs = (
            await self.members.find(query, {"_outbox": 0, "history": 0}).sort("sort_key", 1).limit(limit + 1).to_list()
        )
        more = len(docs) > limit
        docs = docs[:limit]
        return [public_member(d, today) for d in docs], (docs[-1]["sort_key"] if more and docs else None)

    async def iterate(self, f: MemberFilter, batch: int = 500):
        """Every member matching `f`, in name order, a page at a time (for exports)."""
        today = lifecycle.local_today(now_utc())
        base = self.query(f, today)
        after = None
        while True:
            query = dict(base)
            if after:
                query["sort_key"] = {"$gt": after}
            docs = (
                await self.members.find(query, {"_outbox": 0, "history": 0}).sort("sort_key", 1).limit(batch).to_list()
            )
            for d in docs:
                yield d
            if len(docs) < batch:
                return
            after = docs[-1]["sort_key"]

    async def likely_duplicates(self, allowed: set[str] | None, limit: int = 100) -> list[dict[str, Any]]:
        """Groups of members with the same folded name and date of birth."""
        match: dict[str, Any] = {"status": {"$ne": "erased"}, "date_of_birth": {"$exists": True}}
        if allowed is not None:
            match["organization_ids"] = {"$in": sorted(allowed)}
        pipeline = [
            {"$match": match},
            {"$group": {"_id": "$dup_key", "count": {"$sum": 1}, "ids": {"$push": "$_id"}}},
            {"$match": {"count": {"$gt": 1}}},
            {"$limit": limit},
        ]
        groups = await (await self.members.aggregate(pipeline)).to_list()
        for g in groups:  # the embedded store hands arrays back as JSON text after a later $match
            g["ids"] = json.loads(g["ids"]) if isinstance(g["ids"], str) else g["ids"]
        ids = [i for g in groups for i in g["ids"]]
        docs = (
            {
                d["_id"]: d
                for d in await self.members.find({"_id": {"$in": ids}}, {"_outbox": 0, "history": 0}).to_list()
            }
            if ids
            else {}
        )
        out = []
        for g in sorted(groups, key=lambda g: str(g["_id"])):
            members = sorted((docs[i] for i in g["ids"] if i in docs), key=lambda d: d["sort_key"])
            if len(members) > 1:
                out.append({"members": [public_member(d) for d in members]})
        return out

    # --- writing ----------------------------------------------------------------

    async def _org_ids_exist(self, ids: Iterable[str], allowed: set[str] | None) -> None:
        ids = list(ids)
        if not ids:
            return
        found = {d["_id"] async for d in self.orgs.find({"_id": {"$in": ids}}, {"_id": 1})}
        missing = [i for i in ids if i not in found]
        if missing:
            raise InvalidOrganization(f"No organisation with id {missing[0]}", field="organization_ids")
        if allowed is not None and not set(ids) <= allowed:
            raise OutsideYourOrganization(
                "You can place members only in organisations you manage", field="organization_ids"
            )

    async def _duplicate(self, exc: DuplicateKeyError, doc: dict[str, Any]) -> DuplicateMember:
        field = duplicate_key(exc)
        existing = (
            await self.members.find_one({field: doc.get(field)}, {"_id": 1, "full_name": 1}) if field in doc else None
        )
        return DuplicateMember(
            f"Another member already has this {field}",
            field=field,
            existing_member_id=existing["_id"] if existing else None,
            existing_member_name=existing.get("full_name") if existing else None,
        )

    async def create(
        self, body: MemberIn, *, status: str, by: str, correlation_id: str | None, allowed: set[str] | None = None
    ) -> dict[str, Any]:
        """A member entered by staff (active at once) or an application (applied)."""
        if allowed is not None and not body.organization_ids:
            raise OutsideYourOrganization("Place the member in an organisation you manage", field="organization_ids")
        await self._org_ids_exist(body.organization_ids, allowed)
        now = now_utc()
        member_id = str(uuid.uuid4())
        fields = body.model_dump(exclude={"consent_source"})
        doc = new_member_document(
            member_id, fields, status=status, by=by, now=now, consent_source=body.consent_source, years=self.term_years
        )
        if status == "active":
            envelope = event(MemberApproved(**contact(doc)), correlation_id)
        else:
            reviewers = [
                d["contact_email"]
                async for d in self.orgs.find(
                    {"_id": {"$in": body.organization_ids}, "contact_email": {"$exists": True}}, {"contact_email": 1}
                )
            ]
            envelope = event(MemberApplied(**contact(doc), reviewer_emails=reviewers), correlation_id)
        try:
            await self.members.insert_one(with_events(doc, envelope))
        except DuplicateKeyError as exc:
            raise await self._duplicate(exc, doc) from None
        self.relay.notify()
        return public_member(doc)

    async def _apply(
        self, doc: dict[str, Any], update: dict[str, Any], *events: Envelope, expect: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Write `update` (with its events) if the member is still as read; return the new state."""
        condition = {"_id": doc["_id"], "version": doc.get("version", 1), **(expect or {})}
        update = {**update, "$inc": {"version": 1}}
        try:
            result = await self.members.update_one(condition, push_events(update, *events))
        except DuplicateKeyError as exc:
            raise await self._duplicate(exc, {**doc, **update.get("$set", {})}) from None
        if result.matched_count != 1:
            raise ConcurrentChange("The member changed meanwhile; read it again and retry")
        if events:
            self.relay.notify()
        return await self.raw(doc["_id"])

    async def update(
        self,
        member_id: str,
        patch: MemberPatch,
        *,
        by: str,
        correlation_id: str | None,
        allowed: set[str] | None = None,
    ) -> dict[str, Any]:
        doc = await self.raw(member_id, allowed)
        if doc["status"] == "erased":
            raise lifecycle.InvalidTransition("This member's personal data was erased", status_now="erased")
        sent = patch.model_dump(exclude_unset=True, exclude={"consent_source"}, mode="json")
        if "organization_ids" in sent:
            await self._org_ids_exist(sent["organization_ids"], allowed)
        now = now_utc()
        set_: dict[str, Any] = {}
        unset: dict[str, str] = {}
        changes: dict[str, Any] = {}
        for key, value in sent.items():
            old = doc.get(key)
            if key == "consents":
                old = {k: bool(v) for k, v in (old or {}).items()}
            if old == value or (value in (None, []) and key not in doc):
                continue
            changes[key] = {"from": old, "to": value}
            if value is None:
                unset[key] = ""
            else:
                set_[key] = value
            if key == "consents":
                for channel, granted in value.items():
                    if bool((doc.get("consents") or {}).get(channel)) != granted:
                        set_[f"consent_records.{channel}"] = {
                            "granted": granted,
                            "at": now.isoformat(),
                            "source": patch.consent_source,
                        }
        if not changes:
            return public_member(doc)
        merged = {**doc, **set_}
        for key in unset:
            merged.pop(key, None)
        if "full_name" in changes or "date_of_birth" in changes:
            set_.update(derived_keys(member_id, merged["full_name"], merged.get("date_of_birth")))
        if "expertise" in changes:
            if merged.get("expertise"):
                set_["expertise_key"] = fold(merged["expertise"])
            else:
                unset["expertise_key"] = ""
        hid, entry = history_entry("updated", by, changes)
        set_[f"history.{hid}"] = entry
        set_["updated_at"] = now
        update: dict[str, Any] = {"$set": set_}
        if unset:
            update["$unset"] = unset
        after = await self._apply(
            doc,
            update,
            event(MemberUpdated(**contact({**merged, **set_}), changed_fields=sorted(changes)), correlation_id),
        )
        return public_member(after)

    async def transition(
        self,
        member_id: str,
        action: str,
        *,
        by: str,
        correlation_id: str | None,
        reason: str | None = None,
        allowed: set[str] | None = None,
    ) -> dict[str, Any]:
        doc = await self.raw(member_id, allowed)
        target = lifecycle.next_status(doc["status"], action)
        now = now_utc()
        set_: dict[str, Any] = {"status": target, "updated_at": now}
        unset: dict[str, str] = {}
        if action == "approve":
            start, end = lifecycle.first_term(lifecycle.local_today(now), self.term_years)
            set_.update(
                approved_at=now, approved_by=by, dues_state="unpaid", **term_fields(start, end, now.timestamp())
            )
        elif action == "reject":
            set_.update(rejected_at=now, rejected_by=by)
        if target in ("resigned", "rejected", "lapsed"):
            unset.update(next_notice="", next_notice_epoch="")
            set_.pop("next_notice", None)
            set_.pop("next_notice_epoch", None)
        hid, entry = history_entry(action, by, {"status": {"from": doc["status"], "to": target}}, reason)
        set_[f"history.{hid}"] = entry
        update: dict[str, Any] = {"$set": {k: v for k, v in set_.items() if v is not None}}
        if unset:
            update["$unset"] = unset
        merged = {**doc, **set_}
        if action == "approve":
            envelope = event(MemberApproved(**contact(merged)), correlation_id)
        elif action == "lapse":
            envelope = event(MembershipLapsed(**contact(merged), term_end=doc["term_end"]), correlation_id)
        else:
            envelope = event(MemberUpdated(**contact(merged), changed_fields=["status"]), correlation_id)
        after = await self._apply(doc, update, envelope, expect={"status": doc["status"]})
        return public_member(after)

    async def renew(
        self,
        member_id: str,
        *,
        years: int,
        term_end: date | None,
        dues: DuesPayment | None,
        by: str,
        correlation_id: str | None,
        term_start: date | None = None,
        allowed: set[str] | None = None,
    ) -> dict[str, Any]:
        doc = await self.raw(member_id, allowed)
        if doc["status"] not in lifecycle.RENEWABLE:
            raise lifecycle.InvalidTransition(
                f"Cannot renew a member who is {doc['status']}", status_now=doc["status"], action="renew"
            )
        now = now_utc()
        today = lifecycle.local_today(now)
        current_end = date.fromisoformat(doc["term_end"]) if doc.get("term_end") else None
        start, end = lifecycle.renewed_term(current_end, today, years)
        if term_start is not None:
            start, end = term_start, lifecycle.add_years(term_start, years) - timedelta(days=1)
        if term_end is not None:
            end = term_end
        if end < start:
            raise InvalidTerm("The term would end before it starts", field="term_end", term_start=start.isoformat())
        target = "active" if doc["status"] == "lapsed" else doc["status"]
        set_: dict[str, Any] = {
            "status": target,
            "updated_at": now,
            **term_fields(start, end, now.timestamp()),
            "dues_state": "paid" if dues else "unpaid",
        }
        unset: dict[str, str] = {}
        if set_["next_notice"] is None:
            unset = {"next_notice": "", "next_notice_epoch": ""}
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
            set_[f"dues.{time.time_ns():020d}"] = json.dumps(
                {**payment, "term_start": start.isoformat(), "recorded_by": by}, ensure_ascii=False
            )
        hid, entry = history_entry("renewed", by, changes)
        set_[f"history.{hid}"] = entry
        update: dict[str, Any] = {"$set": {k: v for k, v in set_.items() if v is not None}}
        if unset:
            update["$unset"] = unset
        merged = {**doc, **set_}
        envelope = event(
            MembershipRenewed(**contact(merged), term_start=start, term_end=end, dues=dues), correlation_id
        )
        after = await self._apply(doc, update, envelope, expect={"status": doc["status"]})
        return public_member(after)

    # --- personal data ----------------------------------------------------------

    async def personal_data(self, member_id: str, allowed: set[str] | None = None) -> dict[str, Any]:
        """Everything held about a member (their right of access)."""
        doc = await self.raw(member_id, allowed)
        out = public_member(doc)
        out["history"] = public_history(doc)
        out["dues_payments"] = [json.loads(doc["dues"][k]) for k in sorted(doc.get("dues") or {})]
        orgs = {
            d["_id"]: d
            async for d in self.orgs.find({"_id": {"$in": out.get("organization_ids", [])}}, {"code": 1, "name": 1})
        }
        out["organizations"] = [
            {"id": i, "code": orgs[i]["code"], "name": orgs[i]["name"]}
            for i in out.get("organization_ids", [])
            if i in orgs
        ]
        return out

    async def erase(self, member_id: str, *, by: str, correlation_id: str | None) -> dict[str, Any]:
        """Anonymise the member: personal fields gone, history kept as who/when/what kind
        only, organisations, status counts and titles kept for aggregate figures."""
        doc = await self.raw(member_id)
        if doc["status"] == "erased":
            return public_member(doc)
        now = now_utc()
        history = {
            k: json.dumps({key: v for key, v in json.loads(e).items() if key in ("at", "by", "action")})
            for k, e in (doc.get("history") or {}).items()
        }
        hid, entry = history_entry("erased", by)
        history[hid] = entry
        set_ = {
            "full_name": ERASED_NAME,
            "status": "erased",
            "erased_at": now,
            "erased_by": by,
            "updated_at": now,
            "sort_key": f"~ {member_id}",
            "name_key": "",
            "dup_key": f"erased|{member_id}",
            "history": history,
            "consents": {"email": False, "sms": False},
            "consent_records": {},
        }
        unset = {
            k: ""
            for k in (
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
            if k in doc
        }
        update: dict[str, Any] = {"$set": set_}
        if unset:
            update["$unset"] = unset
        after = await self._apply(doc, update, event(MemberErased(member_id=member_id), correlation_id))
        return public_member(after)

    # --- scheduled: expiry notices and lapses -----------------------------------

    async def expiry_sweep(self, now: float | None = None, batch: int = 200) -> int:
        """Send every notice and lapse due by `now`, each once: the member is updated
        only if its next notice is still the one read, so replicas racing on the same
        member write once. Returns how many this call wrote."""
        now = epoch() if now is None else now
        written = 0
        seen: set[str] = set()
        while True:
            docs = (
                await self.members.find({"next_notice_epoch": {"$lte": now}}, {"_outbox": 0, "history": 0})
                .sort("next_notice_epoch", 1)
                .limit(batch)
                .to_list()
            )
            fresh = [d for d in docs if d["_id"] not in seen]
            if not fresh:
                return written
            for doc in fresh:
                seen.add(doc["_id"])
                written += await self._notice(doc, now)

    async def _notice(self, doc: dict[str, Any], now: float) -> int:
        stage, term_end = doc.get("next_notice"), date.fromisoformat(doc["term_end"])
        upcoming = lifecycle.next_notice(term_end, now, stage)
        set_: dict[str, Any] = {}
        events: list[Envelope] = []
        today = lifecycle.local_today(datetime.fromtimestamp(now, UTC))
        if stage == "lapse":
            if doc["status"] in lifecycle.TRANSITIONS["lapse"][0]:
                set_.update(status="lapsed", updated_at=now_utc())
                hid, entry = history_entry(
                    "lapsed", "system:membership", {"status": {"from": doc["status"], "to": "lapsed"}}
                )
                set_[f"history.{hid}"] = entry
                events.append(event(MembershipLapsed(**contact({**doc, "status": "lapsed"}), term_end=term_end), None))
        elif doc["status"] == "active":
            events.append(
                event(
                    MembershipExpiring(
                        **contact(doc), term_end=term_end, days_left=lifecycle.days_left(term_end, today)
                    ),
                    None,
                )
            )
        update: dict[str, Any] = {"$set": set_, "$inc": {"version": 1}}
        if upcoming is None:
            update["$unset"] = {"next_notice": "", "next_notice_epoch": ""}
        else:
            set_["next_notice"], set_["next_notice_epoch"] = upcoming
        if not set_:
            update.pop("$set")
        result = await self.members.update_one(
            {"_id": doc["_id"], "next_notice": stage, "next_notice_epoch": doc["next_notice_epoch"]},
            push_events(update, *events),
        )
        if result.modified_count == 1 and events:
            self.relay.notify()
        return int(result.modified_count == 1 and bool(events))


class InvalidTerm(DomainError):
    status, code, title = 422, "invalid-term", "Impossible term"


class ConcurrentChange(DomainError):
    status, code, title = 409, "concurrent-change", "Changed meanwhile"


async def status_counts(members, statuses: Sequence[str]) -> dict[str, int]:
    """Members per status (aggregate figures survive erasure)."""
    groups = await (await members.aggregate([{"$group": {"_id": "$status", "count": {"$sum": 1}}}])).to_list()
    counts = {g["_id"]: g["count"] for g in groups}
    return {s: counts.get(s, 0) for s in statuses}
