"""Keeping the organisation tree: adding, changing, moving and dissolving organisations,
and showing the tree (with member counts within the caller's reach).

The tree itself is no secret: every caller allowed to read members sees it, so an
organisation outside the caller's reach is refused (403), not hidden. Changes are
made only inside the caller's reach: a manager adds and moves organisations inside
their subtree, never its own root. The federation's name (what welcome emails say) is
the root's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from services.membership.catalogue import MESSAGES
from services.membership.endpoints import OrganizationIn, OrganizationPatch, OrganizationQuery
from services.membership.reach import Deps
from services.membership.store import OrgDoc, Taken
from services.membership.tree import (
    DuplicateOrganization,
    InvalidPlacement,
    OrganizationInUse,
    UnknownOrganization,
    check_move,
    check_placement,
    depth_of,
    tree_order,
)
from shared.access import Reach
from shared.clock import now_utc
from shared.contracts import Envelope, OrganizationCreated, OrganizationUpdated, new_event
from shared.errors import Forbidden
from shared.identity import Identity
from shared.mongo import from_store
from shared.outbox import strip_outbox
from shared.text import fold

PRODUCER = "membership"
SYSTEM = Identity(sub="system:membership", roles=("admin",))


def event(model: Any, correlation_id: str | None) -> Envelope:
    return new_event(model, producer=PRODUCER, correlation_id=correlation_id)


def org_event(doc: Mapping[str, Any]) -> dict[str, Any]:
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


def public_organization(doc: Mapping[str, Any], parents: Mapping[str, str | None]) -> dict[str, Any]:
    out = from_store(strip_outbox(dict(doc)))
    out["id"] = out.pop("_id")
    out["depth"] = depth_of(out["id"], parents)
    for internal in ("name_key", "created_by"):
        out.pop(internal, None)
    return {k: v for k, v in out.items() if v is not None}


class NotYours(Forbidden):
    """Visible, but not the caller's to change (the root of their own subtree, say)."""

    code, title = "outside-your-organization", MESSAGES("membership.not_yours")


class Organizations:
    def __init__(self, deps: Deps, federation_fallback: str = "") -> None:
        self.deps = deps
        self.federation_fallback = federation_fallback

    # --- reading ------------------------------------------------------------------

    async def listing(self, who: Identity, query: OrganizationQuery) -> dict[str, Any]:
        docs = await self.deps.orgs.all()
        parents = {d["_id"]: d.get("parent_id") for d in docs}
        items = [
            public_organization(d, parents)
            for d in tree_order(list(docs))
            if query.kind in (None, d["kind"]) and query.status in (None, d.get("status", "active"))
        ]
        if query.with_counts:
            await self._count(items, await self.deps.reach(who))
        return {"items": items}

    async def _count(self, items: list[dict[str, Any]], reach: Reach) -> None:
        mine = [i["id"] for i in items if reach.covers(i["id"])]
        counts = await self.deps.orgs.member_counts(mine)
        for item in items:
            item["member_count"] = counts.get(item["id"])

    async def show(self, org_id: str) -> dict[str, Any]:
        doc = await self.deps.organization(None, org_id)
        return public_organization(doc, await self.deps.tree.parents())

    async def subtree(self, org_id: str) -> dict[str, Any]:
        await self.deps.organization(None, org_id)
        ids = await self.deps.tree.subtree(org_id)
        docs = [d for d in await self.deps.orgs.all() if d["_id"] in ids]
        parents = await self.deps.tree.parents()
        return {"items": [public_organization(d, parents) for d in tree_order(list(docs))]}

    async def federation(self) -> dict[str, Any]:
        """The root's name; the setting only before there is a tree."""
        root = await self.deps.orgs.root()
        if root is None:
            return {"name": self.federation_fallback, "organization_id": None}
        return {"name": root["name"], "organization_id": root["_id"]}

    # --- writing ------------------------------------------------------------------

    async def create(self, who: Identity, body: OrganizationIn, correlation_id: str | None) -> dict[str, Any]:
        reach = await self.deps.reach(who)
        parent = await self._parent(body.parent_id, reach, "membership.add_inside_yours")
        if not reach.everything and parent is None:
            raise NotYours(MESSAGES("membership.add_inside_yours"), field="parent_id")
        check_placement(body.kind, parent, has_root=await self.deps.orgs.root() is not None)
        now = now_utc()
        doc: OrgDoc = {
            "_id": str(uuid.uuid4()),
            **body.model_dump(exclude_none=True),  # type: ignore[typeddict-item]
            "name_key": fold(body.name),
            "created_at": now,
            "created_by": who.sub,
            "updated_at": now,
        }
        try:
            await self.deps.orgs.add(doc, event(OrganizationCreated(**org_event(doc)), correlation_id))
        except Taken:
            existing = await self.deps.orgs.by_code(body.code)
            seen = existing is not None and reach.covers(existing["_id"])
            raise DuplicateOrganization(
                MESSAGES("membership.code_taken", code=body.code),
                field="code",
                existing_organization_id=existing["_id"] if seen and existing else None,
            ) from None
        self._written()
        return public_organization(doc, await self.deps.tree.parents())

    async def _parent(self, parent_id: str | None, reach: Reach, refusal: str) -> OrgDoc | None:
        if parent_id is None:
            return None
        parent = await self.deps.orgs.get(parent_id)
        if parent is None:
            raise UnknownOrganization(MESSAGES("membership.no_parent", id=parent_id), field="parent_id")
        if not reach.covers(parent_id):
            raise NotYours(MESSAGES(refusal), field="parent_id")
        return parent

    async def update(
        self, who: Identity, org_id: str, patch: OrganizationPatch, correlation_id: str | None
    ) -> dict[str, Any]:
        reach = await self.deps.reach(who)
        doc = await self.deps.organization(None, org_id)
        if not reach.covers(org_id):
            raise NotYours(MESSAGES("membership.change_inside_yours"))
        changes = patch.model_dump(exclude_unset=True)
        await self._check_move(doc, changes, reach)
        if changes.get("status") == "dissolved":
            await self._refuse_if_in_use(org_id)
        if changes:
            await self._write(doc, changes, correlation_id)
        return await self.show(org_id)

    async def _check_move(self, doc: OrgDoc, changes: dict[str, Any], reach: Reach) -> None:
        if "parent_id" not in changes:
            return
        new_parent_id = changes["parent_id"]
        if new_parent_id == doc.get("parent_id"):
            changes.pop("parent_id")
            return
        parent = await self._parent(new_parent_id, reach, "membership.move_inside_yours")
        # A manager moves nodes inside their subtree, never the subtree's own root.
        if not reach.everything and (new_parent_id is None or not reach.covers(doc.get("parent_id"))):
            raise NotYours(MESSAGES("membership.move_inside_yours"), field="parent_id")
        check_placement(doc["kind"], parent, has_root=True)
        if new_parent_id is not None:
            check_move(doc["_id"], new_parent_id, await self.deps.tree.parents())

    async def _write(self, doc: OrgDoc, changes: dict[str, Any], correlation_id: str | None) -> None:
        changes["updated_at"] = now_utc()
        if "name" in changes:
            changes["name_key"] = fold(changes["name"])
        update: dict[str, Any] = {"$set": {k: v for k, v in changes.items() if v is not None}}
        unset = {k: "" for k, v in changes.items() if v is None}
        if unset:
            update["$unset"] = unset
        merged = {**doc, **changes}
        await self.deps.orgs.change(doc["_id"], update, event(OrganizationUpdated(**org_event(merged)), correlation_id))
        self._written()

    async def _refuse_if_in_use(self, org_id: str) -> None:
        child = await self.deps.orgs.live_child(org_id)
        member = await self.deps.orgs.live_member(org_id)
        if child or member:
            raise OrganizationInUse(MESSAGES("membership.in_use"), sub_organization_id=child, member_id=member)

    async def dissolve(self, who: Identity, org_id: str, correlation_id: str | None) -> dict[str, Any]:
        return await self.update(who, org_id, OrganizationPatch(status="dissolved"), correlation_id)

    def _written(self) -> None:
        self.deps.changed()

    # --- from a spreadsheet -----------------------------------------------------------

    async def upsert(self, row: dict[str, Any], correlation_id: str | None, by: Identity) -> str:
        """Create or update one organisation by code: 'created', 'updated' or 'unchanged'."""
        existing = await self.deps.orgs.by_code(row["code"])
        if existing is None:
            body = OrganizationIn.model_validate({k: v for k, v in row.items() if k != "parent_code"})
            await self.create(by, body, correlation_id)
            return "created"
        if existing["kind"] != row["kind"]:
            detail = MESSAGES("membership.kind_fixed", code=row["code"], kind=existing["kind"])
            raise InvalidPlacement(detail, field="kind")
        patch = _differences(existing, row)
        if not patch:
            return "unchanged"
        await self.update(by, existing["_id"], OrganizationPatch.model_validate(patch), correlation_id)
        return "updated"


def _differences(existing: Mapping[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """What an import row says that the organisation does not, compared cleaned (a phone
    written differently is the same phone)."""
    fields = ("name", "parent_id", "contact_email", "contact_phone", "address")
    sent = OrganizationPatch.model_validate({k: v for k, v in row.items() if k in fields and v is not None})
    return {k: v for k, v in sent.model_dump(exclude_unset=True).items() if existing.get(k) != v}
