"""Where each good row of an import batch goes: a new member, an update of a member it
names, nothing (unchanged), or a refusal. Pure rules, no I/O.

A row names a member by email or phone (or, with neither, by name and birth date). It
is that member only if the names agree (diacritics and case ignored), and only if the
member is within the importer's reach: a match outside it is refused without saying
who matched, and a clash names the member only within reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from services.membership.members import ERASED_NAME, dup_key
from services.membership.spreadsheets import ParsedRow, RowError
from shared.access import Reach
from shared.text import fold

COLUMNS = {"email": "Email", "phone": "Điện thoại"}
NAME_COLUMN = "Họ và tên"
UPDATABLE = ("email", "phone", "date_of_birth", "gender", "titles", "expertise", "language")


def dup_key_of(fields: Mapping[str, Any]) -> str:
    return dup_key(fields["full_name"], fields.get("date_of_birth"))


def changed_fields(change: Mapping[str, Any]) -> list[str]:
    return sorted(change)


def changes_of(doc: Mapping[str, Any], fields: Mapping[str, Any], pending: Mapping[str, Any]) -> dict[str, Any]:
    """What a row says that the member's record does not (empty cells change nothing;
    organisations are added, never removed)."""
    current = {**doc, **pending}
    change: dict[str, Any] = {}
    for key in UPDATABLE:
        value = fields.get(key)
        if isinstance(value, date):
            value = value.isoformat()
        if value not in (None, "", []) and current.get(key) != value:
            change[key] = value
    orgs = list(current.get("organization_ids") or [])
    added = [o for o in fields.get("organization_ids") or [] if o not in orgs]
    if added:
        change["organization_ids"] = orgs + added
    return change


class ImportPlan:
    def __init__(
        self,
        reach: Reach,
        *,
        by_email: dict | None = None,
        by_phone: dict | None = None,
        by_dup: dict | None = None,
        updates: dict | None = None,
    ) -> None:
        self.reach = reach
        self.by_email: dict[str, dict[str, Any]] = by_email or {}
        self.by_phone: dict[str, dict[str, Any]] = by_phone or {}
        self.by_dup: dict[str, dict[str, Any]] = by_dup or {}
        self.creates: list[tuple[ParsedRow, Any]] = []
        self.waiting: list[tuple[ParsedRow, dict[str, Any]]] = []  # rows meeting a member new in this batch
        self.updates: dict[str, tuple[dict[str, Any], dict[str, Any]]] = updates if updates is not None else {}
        self.errors: list[tuple[RowError, ParsedRow | None]] = []
        self.unchanged = 0

    def again(self, *, by_email: dict, by_phone: dict) -> ImportPlan:
        """A plan for the rows the indexes turned away, sharing this one's updates."""
        return ImportPlan(self.reach, by_email=by_email, by_phone=by_phone, by_dup=self.by_dup, updates=self.updates)

    def absorb(self, other: ImportPlan) -> None:
        self.errors += other.errors
        self.unchanged += other.unchanged

    def place(self, row: ParsedRow, new_doc: Any) -> None:
        f = row.fields or {}
        m_email, m_phone = self._held("email", f, self.by_email), self._held("phone", f, self.by_phone)
        if m_email and m_phone and m_email["_id"] != m_phone["_id"]:
            self.refuse(row, "phone", m_phone)
            return
        match = m_email or m_phone or self._by_name(f)
        if match is None:
            self._plan_new(row, new_doc)
        elif match.get("_pending"):
            self.waiting.append((row, match))
        else:
            self.settle(row, match, "email" if m_email else None)

    @staticmethod
    def _held(field: str, fields: Mapping[str, Any], index: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        return index.get(fields[field]) if fields.get(field) else None

    def _by_name(self, f: Mapping[str, Any]) -> dict[str, Any] | None:
        """With neither email nor phone, a row names a member by name and birth date."""
        return None if f.get("email") or f.get("phone") else self.by_dup.get(dup_key_of(f))

    def _plan_new(self, row: ParsedRow, new_doc: Any) -> None:
        self.creates.append((row, new_doc))
        pending = {**new_doc, "_pending": True}
        for key, index in (("email", self.by_email), ("phone", self.by_phone)):
            if new_doc.get(key):
                index[new_doc[key]] = pending
        if not new_doc.get("email") and not new_doc.get("phone"):
            self.by_dup[new_doc["dup_key"]] = pending

    def settle_inserted(self, clashed: set[str]) -> list[ParsedRow]:
        """After the insert: rows that met a member new in this batch settle on it; the
        rows the indexes turned away (and those waiting on them) are returned to retry."""
        retry = [row for row, doc in self.creates if doc["_id"] in clashed]
        retry += [row for row, doc in self.waiting if doc["_id"] in clashed]
        self.waiting = [(row, doc) for row, doc in self.waiting if doc["_id"] not in clashed]
        self.settle_waiting()
        return retry

    def settle_waiting(self) -> None:
        for row, doc in self.waiting:
            self.settle(row, {**doc, "_new": True})
        self.waiting = []

    def settle(self, row: ParsedRow, match: dict[str, Any], field: str | None = None) -> None:
        """The row names a stored member (or one created in this batch)."""
        f = row.fields or {}
        field = field or _contact_field(f, match)
        if not match.get("_new") and not self.reach.covers_any(match.get("organization_ids") or []):
            self._elsewhere(row, field)
        elif match.get("name_key") != fold(f["full_name"]):
            self.refuse(row, field or "phone", match)
        elif match.get("_new"):
            self.unchanged += 1  # the same person twice in one file
        else:
            self._update(match, f)

    def _update(self, match: dict[str, Any], fields: Mapping[str, Any]) -> None:
        pending = self.updates.get(match["_id"], (match, {}))[1]
        change = changes_of(match, fields, pending)
        if not change:
            self.unchanged += 1
            return
        self.updates[match["_id"]] = (match, {**pending, **change})
        for key, index in (("email", self.by_email), ("phone", self.by_phone)):
            if change.get(key):
                index[change[key]] = match

    def refuse(self, row: ParsedRow, field: str, holder: Mapping[str, Any]) -> None:
        """The row's email or phone belongs to someone else: named only within reach."""
        if not self.reach.covers_any(holder.get("organization_ids") or []):
            self._elsewhere(row, field)
            return
        params = {"member_id": holder["_id"], "member_name": holder.get("full_name", ERASED_NAME)}
        self.errors.append((RowError(row.line, COLUMNS[field], f"duplicate_{field}", params), row))

    def _elsewhere(self, row: ParsedRow, field: str | None) -> None:
        if field is None:
            self.errors.append((RowError(row.line, NAME_COLUMN, "member_elsewhere"), row))
        else:
            self.errors.append((RowError(row.line, COLUMNS[field], f"taken_{field}"), row))


def _contact_field(fields: Mapping[str, Any], match: Mapping[str, Any]) -> str | None:
    """Which of the row's contacts names the member (None: neither, matched by name)."""
    if not fields.get("email") and not fields.get("phone"):
        return None
    return "email" if fields.get("email") and fields.get("email") == match.get("email") else "phone"
