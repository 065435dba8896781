"""Member records: what is stored for a member and how the API shows it.

Pure functions, no I/O: a new member's document (with its derived keys: folded name
for search, Vietnamese sort key, duplicate key), a history entry, the contact that
events carry, the public view (staff see who did what; partners do not), and "young
intellectual" derived from the date of birth.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from services.membership import lifecycle
from services.membership.catalogue import MESSAGES
from services.membership.documents import MemberDoc
from services.membership.endpoints import Gender, InvalidTitle, MemberIn, parse_titles
from shared.clock import now_utc
from shared.errors import Conflict
from shared.identity import Identity
from shared.mongo import from_store
from shared.outbox import strip_outbox
from shared.text import InvalidPhone, fold, name_sort_key, normalise_name, normalise_phone

__all__ = [
    "DuplicateMember",
    "InvalidPhone",
    "InvalidTitle",
    "MemberIn",
    "fold",
    "is_young_intellectual",
    "normalise_name",
    "normalise_phone",
    "parse_gender",
    "parse_titles",
    "young_cutoff",
]

YOUNG_MAX_AGE = 35
ERASED_NAME = "[đã xoá]"
# Stored, never shown as stored.
INTERNAL = frozenset(
    {
        "version",
        "name_key",
        "name_terms",
        "sort_key",
        "dup_key",
        "expertise_key",
        "next_notice",
        "next_notice_epoch",
        "history",
        "dues",
        "term_start",
        "term_end",
        "import_job_id",
    }
)
# Who among staff did what: shown to staff only.
STAFF_ONLY = frozenset({"created_by", "approved_by", "rejected_by"})
_GENDERS: dict[str, Gender] = {
    "nam": "male",
    "male": "male",
    "m": "male",
    "nu": "female",
    "female": "female",
    "f": "female",
    "khac": "other",
    "other": "other",
}


class DuplicateMember(Conflict):
    code, title = "duplicate-member", MESSAGES("membership.duplicate_member")


def parse_gender(raw: str) -> Gender | None:
    """`Nam`, `Nữ`, `Khác` or the English words; None if not recognised."""
    return _GENDERS.get(fold(raw))


def young_cutoff(today: date) -> date:
    """Members born after this date are 35 or under today."""
    try:
        return today.replace(year=today.year - YOUNG_MAX_AGE - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - YOUNG_MAX_AGE - 1, day=28)


def is_young_intellectual(date_of_birth: date | None, today: date) -> bool:
    """35 or under on `today` (derived each time, never stored)."""
    return date_of_birth is not None and date_of_birth > young_cutoff(today)


def history_entry(
    action: str, by: str, changes: dict[str, Any] | None = None, note: str | None = None
) -> tuple[str, str]:
    """(sortable id, JSON) of one history entry: who did what when."""
    hid = f"{time.time_ns():020d}{uuid.uuid4().hex[:6]}"
    entry: dict[str, Any] = {"at": now_utc().isoformat(), "by": by, "action": action}
    if changes:
        entry["changes"] = changes
    if note:
        entry["note"] = note
    return hid, json.dumps(entry, ensure_ascii=False, default=str)


def derived_keys(member_id: str, full_name: str, date_of_birth: str | None) -> dict[str, Any]:
    """What search, name order and duplicate detection compare, derived from the name."""
    name_key = fold(full_name)
    return {
        "name_key": name_key,
        "sort_key": f"{name_sort_key(full_name)} {member_id}",
        "dup_key": f"{name_key}|{date_of_birth or ''}",
    }


def dup_key(full_name: str, date_of_birth: date | str | None) -> str:
    born = date_of_birth.isoformat() if isinstance(date_of_birth, date) else date_of_birth
    return f"{fold(full_name)}|{born or ''}"


def term_fields(start: date, end: date, now: float, after: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"term_start": start.isoformat(), "term_end": end.isoformat()}
    upcoming = lifecycle.next_notice(end, now, after)
    fields["next_notice"], fields["next_notice_epoch"] = upcoming if upcoming else (None, None)
    return fields


def _clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    skip = ("date_of_birth", "consent_source")
    return {k: v for k, v in fields.items() if v not in (None, [], "") and k not in skip}


def new_member(
    member_id: str, fields: Mapping[str, Any], *, status: str, by: str, now: datetime, consent_source: str, years: int
) -> MemberDoc:
    """A member as stored, from clean fields (MemberIn or an import row)."""
    dob = fields.get("date_of_birth")
    dob_text = dob.isoformat() if isinstance(dob, date) else dob
    consents = fields.get("consents") or {"email": True, "sms": False}
    doc: dict[str, Any] = {
        "_id": member_id,
        **_clean_fields(fields),
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
        **_optional(dob_text, fields.get("expertise")),
    }
    if status == "active":
        doc.update(first_term_fields(now, years, by))
    hid, entry = history_entry("created" if status == "active" else "applied", by)
    doc["history"] = {hid: entry}
    return doc  # type: ignore[return-value]


def _optional(dob_text: str | None, expertise: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if dob_text:
        out["date_of_birth"] = dob_text
    if expertise:
        out["expertise_key"] = fold(expertise)
    return out


def first_term_fields(now: datetime, years: int, by: str) -> dict[str, Any]:
    """An approved member's first term (from today), unpaid dues, and who approved."""
    start, end = lifecycle.first_term(lifecycle.local_today(now), years)
    fields = {**term_fields(start, end, now.timestamp()), "dues_state": "unpaid", "approved_at": now, "approved_by": by}
    return {k: v for k, v in fields.items() if v is not None}


def contact(doc: Mapping[str, Any]) -> dict[str, Any]:
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


def public_member(doc: Mapping[str, Any], who: Identity | None = None, today: date | None = None) -> dict[str, Any]:
    """A stored member as the API shows it to `who` (staff, unless a partner is named)."""
    out = from_store(strip_outbox(dict(doc)))
    out["id"] = out.pop("_id")
    out["consents"] = {k: bool(v) for k, v in (out.get("consents") or {}).items()}
    out["consent_records"] = _consent_records(out.get("consent_records"))
    out["young_intellectual"] = _young(out.get("date_of_birth"), today)
    if out.get("term_start") and out.get("term_end"):
        out["term"] = {"start": out["term_start"], "end": out["term_end"]}
    hidden = INTERNAL if who is None or who.is_staff else INTERNAL | STAFF_ONLY
    return {k: v for k, v in out.items() if v is not None and k not in hidden}


def _consent_records(records: dict[str, Any] | None) -> dict[str, Any]:
    return {k: {**v, "granted": bool(v.get("granted"))} for k, v in (records or {}).items()}


def _young(dob: str | None, today: date | None) -> bool:
    today = today or lifecycle.local_today(now_utc())
    return is_young_intellectual(date.fromisoformat(dob) if dob else None, today)


def public_history(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(doc["history"][k]) for k in sorted(doc.get("history") or {})]


def erased_history(doc: Mapping[str, Any]) -> dict[str, str]:
    """The history kept after erasure: who, when, what kind only."""
    return {
        k: json.dumps({key: v for key, v in json.loads(e).items() if key in ("at", "by", "action")})
        for k, e in (doc.get("history") or {}).items()
    }
