"""The organisation tree: what a valid organisation is and where it may sit.

Pure rules, no I/O: the federation is the root; associations, centres and SMEs
sit under the federation; centres may also sit under an association; branches and
clubs sit under an association; nothing sits under a branch or an SME; and no
move may make a node its own ancestor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from services.membership.members import InvalidPhone, normalise_name, normalise_phone
from shared.http import Conflict, DomainError

Kind = Literal["federation", "association", "centre", "branch", "enterprise"]
OrgStatus = Literal["active", "inactive", "dissolved"]
KINDS: tuple[str, ...] = ("federation", "association", "centre", "branch", "enterprise")
# Which kinds a kind may sit under.
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
    "federation": (),
    "association": ("federation",),
    "centre": ("federation", "association"),
    "branch": ("association",),
    "enterprise": ("federation", "association"),
}
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")


class InvalidPlacement(DomainError):
    status, code, title = 422, "invalid-placement", "That place in the tree is not allowed"


class DuplicateOrganization(Conflict):
    code, title = "duplicate-organization", "An organisation with this code exists"


class OrganizationInUse(Conflict):
    code, title = "organization-in-use", "The organisation still has sub-organisations or members"


def normalise_code(raw: str) -> str:
    return raw.strip().upper()


class OrganizationIn(BaseModel):
    """An organisation as staff enter it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=2, max_length=40, description="Unique code, e.g. HOI-TIN-HOC")
    name: str = Field(min_length=1, max_length=300, description="Vietnamese name")
    kind: Kind
    parent_id: str | None = Field(None, max_length=64, description="Required except for the federation")
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=300)
    status: OrgStatus = "active"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        code = normalise_code(value)
        if not CODE.match(code):
            raise ValueError("capital letters, digits and hyphens, e.g. HOI-TIN-HOC")
        return code

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return normalise_name(value)

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return normalise_phone(value)
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None


class OrganizationPatch(BaseModel):
    """A change: name, contacts, status, or a move (new `parent_id`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=300)
    parent_id: str | None = Field(None, max_length=64)
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=300)
    status: OrgStatus | None = None

    _name = field_validator("name")(classmethod(lambda cls, v: None if v is None else normalise_name(v)))
    _email = field_validator("contact_email")(classmethod(lambda cls, v: v.lower() if v else None))
    _phone = field_validator("contact_phone")(classmethod(lambda cls, v: OrganizationIn._phone(v)))


class Organization(BaseModel):
    id: str
    code: str
    name: str
    kind: Kind
    parent_id: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    address: str | None = None
    status: OrgStatus = "active"
    depth: int = Field(0, description="0 for the federation")
    created_at: datetime
    updated_at: datetime


def check_placement(kind: str, parent: Mapping[str, Any] | None, *, has_root: bool) -> None:
    """Refuse a node of `kind` under `parent` unless the tree rules allow it."""
    allowed = ALLOWED_PARENTS[kind]
    if parent is None:
        if allowed:
            raise InvalidPlacement(f"A {kind} needs a parent ({' or '.join(allowed)})", field="parent_id")
        if has_root:
            raise InvalidPlacement("There is already a federation at the root", field="kind")
        return
    if parent["kind"] not in allowed:
        expected = " or ".join(allowed) if allowed else "nothing (it is the root)"
        raise InvalidPlacement(
            f"A {kind} cannot sit under a {parent['kind']}; it sits under {expected}",
            field="parent_id",
            parent_kind=parent["kind"],
        )


def subtree_ids(root_id: str, parent_of: Mapping[str, str | None]) -> set[str]:
    """`root_id` and every organisation below it."""
    children: dict[str | None, list[str]] = {}
    for node, parent in parent_of.items():
        children.setdefault(parent, []).append(node)
    out, stack = set(), [root_id]
    while stack:
        node = stack.pop()
        if node in out:
            continue
        out.add(node)
        stack.extend(children.get(node, ()))
    return out


def check_move(node_id: str, new_parent_id: str, parent_of: Mapping[str, str | None]) -> None:
    """Refuse a move that would put a node under itself or its descendants."""
    if new_parent_id in subtree_ids(node_id, parent_of):
        raise InvalidPlacement(
            "An organisation cannot move under itself or one of its own sub-organisations", field="parent_id"
        )


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
