"""What the membership service stores, one type per kind of document (queries and
writes on them are in store.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict


class OrgDoc(TypedDict):
    _id: str
    code: str
    name: str
    name_key: str
    kind: str
    parent_id: NotRequired[str | None]
    status: NotRequired[str]
    contact_email: NotRequired[str | None]
    contact_phone: NotRequired[str | None]
    address: NotRequired[str | None]
    created_at: datetime
    created_by: str
    updated_at: datetime


class MemberDoc(TypedDict, total=False):
    _id: str
    full_name: str
    email: str
    phone: str
    date_of_birth: str  # ISO date
    gender: str
    titles: list[str]
    expertise: str
    language: str
    consents: dict[str, bool]
    consent_records: dict[str, dict[str, Any]]
    organization_ids: list[str]
    status: str
    version: int
    name_key: str  # folded full name
    sort_key: str  # Vietnamese name order, then the id
    dup_key: str  # folded name | date of birth
    expertise_key: str
    term_start: str
    term_end: str
    next_notice: str | None
    next_notice_epoch: float | None
    dues_state: str
    dues: dict[str, str]  # sortable id → JSON payment
    history: dict[str, str]  # sortable id → JSON entry
    import_job_id: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    approved_at: datetime
    approved_by: str
    rejected_at: datetime
    rejected_by: str
    erased_at: datetime
    erased_by: str


class ImportJobDoc(TypedDict):
    _id: str
    state: str  # queued | running | done | failed | interrupted
    filename: str | None
    bytes: int
    created_by: str
    reach: list[str] | None  # the organisations the importer reached (None: all)
    created_at: datetime
    created_epoch: float
    heartbeat: float
    updated_at: datetime
    rows: int
    total_rows: NotRequired[int]
    created: int
    updated: int
    unchanged: int
    rejected: int
    last_line: NotRequired[int]
    error: NotRequired[dict[str, Any]]
    finished_at: NotRequired[datetime]


class ImportErrorDoc(TypedDict):
    _id: str
    job_id: str
    line: int
    column: str
    code: str
    params: dict[str, Any]  # the reason's parameters; member_id only when the importer reaches that member
    cells: NotRequired[dict[str, Any]]  # the row as written: header → value
    search: NotRequired[list[str]]  # the row's name, email and phone, raw and cleaned (erasure finds them)
