"""The organisation tree: where an organisation may sit.

Pure rules, no I/O: the federation is the root; associations, centres and SMEs
sit under the federation; centres may also sit under an association; branches and
clubs sit under an association; nothing sits under a branch or an SME; and no
move may make a node its own ancestor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.membership import catalogue
from services.membership.catalogue import MESSAGES
from services.membership.endpoints import CODE, OrganizationIn, normalise_code
from shared.access import subtree_ids
from shared.errors import Conflict, DomainError

__all__ = [
    "CODE",
    "DuplicateOrganization",
    "InvalidPlacement",
    "OrganizationIn",
    "OrganizationInUse",
    "check_move",
    "check_placement",
    "depth_of",
    "import_order",
    "normalise_code",
    "subtree_ids",
    "tree_order",
]

KINDS: tuple[str, ...] = ("federation", "association", "centre", "branch", "enterprise")
# Which kinds a kind may sit under.
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
    "federation": (),
    "association": ("federation",),
    "centre": ("federation", "association"),
    "branch": ("association",),
    "enterprise": ("federation", "association"),
}


class InvalidPlacement(DomainError):
    status, code, title = 422, "invalid-placement", MESSAGES("membership.invalid_placement")


class UnknownOrganization(DomainError):
    status, code, title = 422, "unknown-organization", MESSAGES("membership.unknown_organization")


class DuplicateOrganization(Conflict):
    code, title = "duplicate-organization", MESSAGES("membership.duplicate_organization")


class OrganizationInUse(Conflict):
    code, title = "organization-in-use", MESSAGES("membership.organization_in_use")


def _kinds(names: tuple[str, ...]) -> str:
    return " / ".join(names)


def check_placement(kind: str, parent: Mapping[str, Any] | None, *, has_root: bool) -> None:
    """Refuse a node of `kind` under `parent` unless the tree rules allow it."""
    allowed = ALLOWED_PARENTS[kind]
    if parent is None:
        if allowed:
            detail = MESSAGES("membership.needs_parent", kind=catalogue.kind(kind), allowed=_kinds(allowed))
            raise InvalidPlacement(detail, field="parent_id")
        if has_root:
            raise InvalidPlacement(MESSAGES("membership.root_taken"), field="kind")
        return
    if parent["kind"] not in allowed:
        detail = MESSAGES(
            "membership.wrong_parent",
            kind=catalogue.kind(kind),
            parent_kind=catalogue.kind(parent["kind"]),
            expected=_kinds(allowed) if allowed else "-",
        )
        raise InvalidPlacement(detail, field="parent_id", parent_kind=parent["kind"])


def check_move(node_id: str, new_parent_id: str, parent_of: Mapping[str, str | None]) -> None:
    """Refuse a move that would put a node under itself or its descendants."""
    if new_parent_id in subtree_ids(node_id, parent_of):
        raise InvalidPlacement(MESSAGES("membership.under_itself"), field="parent_id")


def depth_of(node_id: str, parent_of: Mapping[str, str | None]) -> int:
    depth, seen, node = 0, set(), parent_of.get(node_id)
    while node is not None and node not in seen:
        seen.add(node)
        depth += 1
        node = parent_of.get(node)
    return depth


def import_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows ordered so that every parent comes before its children (by code)."""
    by_code = {r["code"]: r for r in rows}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(row: dict[str, Any], path: tuple[str, ...]) -> None:
        if row["code"] in placed or row["code"] in path:
            return
        parent = row.get("parent_code")
        if parent and parent in by_code:
            place(by_code[parent], (*path, row["code"]))
        placed.add(row["code"])
        ordered.append(row)

    for row in rows:
        place(row, ())
    return ordered


def tree_order(docs: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Parents before children, siblings by code; a node whose parent is not among
    `docs` starts a walk of its own."""
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    ids = {d["_id"] for d in docs}
    for d in docs:
        children.setdefault(d.get("parent_id") if d.get("parent_id") in ids else None, []).append(d)
    out: list[Mapping[str, Any]] = []
    stack = sorted(children.get(None, []), key=lambda d: d["code"], reverse=True)
    while stack:
        d = stack.pop()
        out.append(d)
        stack.extend(sorted(children.get(d["_id"], []), key=lambda c: c["code"], reverse=True))
    return out
