"""The shapes of what the contests service stores, one type per document.

Points are integers of hundredths of a point (7.5 points → 750), so sums are exact
on every store. Moments are BSON datetimes in UTC (read back through
`shared.mongo.from_store`); calendar dates (a birthday, a cut-off) are ISO text.
Lists of sub-documents are written whole (inserted, or `$set` as a whole): the
embedded store ignores `$set` on `list.0.field` and cannot query inside them, so
what is searched is lifted into top-level lists of strings (`member_ids`,
`organization_ids`, queried with `$in`). What grows one item at a time is a map
keyed by a sortable id (`history`, `documents`, `conflicts`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

ContestKind = Literal["technical", "youth"]
Aggregation = Literal["mean", "median", "trimmed_mean"]
TierCode = Literal["first", "second", "third", "honourable"]
Board = Literal["primary", "lower_secondary", "upper_secondary"]
EntryStatus = Literal["submitted", "screened_in", "screened_out", "scored", "awarded", "not_awarded", "forwarded"]
SheetStatus = Literal["assigned", "submitted", "reopened", "withdrawn"]


class LocalText(TypedDict):
    vi: str
    en: NotRequired[str | None]


class Window(TypedDict):
    opens_at: datetime
    closes_at: datetime


class FieldDoc(TypedDict):
    code: str
    name: LocalText


class LevelDoc(TypedDict):
    points_from: int
    points_to: int
    description: LocalText


class CriterionDoc(TypedDict):
    code: str
    name: LocalText
    max_points: int
    levels: list[LevelDoc]


class TierDoc(TypedDict):
    code: TierCode
    threshold: int
    quota: int | None
    prize_vnd: int


class EligibilityDoc(TypedDict, total=False):
    applied_since: str | None  # technical: applied in practice on or after this date
    age_min: int  # youth: every author's age on the cut-off date
    age_max: int
    age_cutoff: str | None
    boards: list[Board]
    supervisor_required: bool


class CommunityVoteDoc(TypedDict):
    enabled: bool
    share_permille: int  # the vote's share of the total, in thousandths (100 = 10 %)


class EditionDoc(TypedDict):
    _id: str
    code: str
    kind: ContestKind
    number: int | None
    name: LocalText
    status: Literal["open", "published"]
    timeline: dict[str, Window]
    with_presentations: bool
    fields: list[FieldDoc]
    criteria: list[CriterionDoc]
    tie_break: list[str]
    tiers: list[TierDoc]
    aggregation: Aggregation
    min_judges: int
    judges_per_entry: int
    disagreement_threshold: int | None
    rank_by: list[Literal["field", "board"]]
    eligibility: EligibilityDoc
    community_vote: CommunityVoteDoc
    national_contest: str | None
    entry_seq: int
    sheets_submitted: int  # once above 0 the criteria are fixed
    decision_number: NotRequired[str | None]
    created_at: datetime
    updated_at: datetime
    published_at: NotRequired[datetime]


class AuthorDoc(TypedDict, total=False):
    full_name: str
    member_id: str | None
    email: str | None
    phone: str | None
    language: Literal["vi", "en"]
    share: int | None  # hundredths of a percent of authorship
    date_of_birth: str | None
    school: str | None
    grade: str | None
    erased: bool


class SupervisorDoc(TypedDict, total=False):
    full_name: str
    school: str | None
    email: str | None
    phone: str | None
    language: Literal["vi", "en"]


class EntrantDoc(TypedDict):
    kind: Literal["individual", "group", "organization"]
    organization_id: str | None
    organization_name: str | None
    authors: list[AuthorDoc]


class DocumentDoc(TypedDict):
    name: str
    media_type: str
    kind: Literal["pdf", "image", "drawing"]
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


class StatusChangeDoc(TypedDict):
    status: EntryStatus
    at: datetime
    by: str
    reason: NotRequired[str | None]


class OverrideDoc(TypedDict):
    tier: TierCode | None
    reason: str
    by: str
    at: datetime


class ResultDoc(TypedDict):
    rank: int | None
    final: int | None  # hundredths
    tier: TierCode | None
    prize_vnd: int
    decided_by_board: bool
    board_reason: str | None


class EntryDoc(TypedDict):
    _id: str
    edition_id: str
    code: str
    title: str
    title_key: str  # folded, for similarity with earlier editions' titles
    field: str
    summary: str
    description: str | None
    applied_since: str | None
    application_place: str | None
    entrant: EntrantDoc
    supervisor: SupervisorDoc | None
    board: Board | None
    history_declared: dict[str, object]  # previously_entered, prior_awards
    status: EntryStatus
    history: dict[str, StatusChangeDoc]  # sortable time key → change
    documents: dict[str, DocumentDoc]  # document id (its GridFS id) → what it is
    documents_bytes: int
    organization_ids: list[str]  # entrant organisation and member authors' organisations
    member_ids: list[str]
    warnings: list[dict[str, object]]  # possible repeats of earlier editions' entries
    screening: NotRequired[dict[str, object]]
    sheets_submitted: int
    votes: int
    override: NotRequired[OverrideDoc]
    forwarding: NotRequired[dict[str, Any]]
    result: NotRequired[ResultDoc]
    certificate_code: NotRequired[str]
    certificate_issued_at: NotRequired[datetime]
    created_by: str
    created_at: datetime
    updated_at: datetime


class SheetDoc(TypedDict):
    _id: str  # "<entry_id>:<judge>"
    edition_id: str
    entry_id: str
    entry_code: str
    field: str
    judge: str
    status: SheetStatus
    scores: dict[str, int]  # criterion → hundredths
    comment: str | None
    assigned_at: datetime
    submitted_at: NotRequired[datetime]
    reopened: dict[str, dict[str, object]]  # sortable time key → {reason, by, at}


class ConflictDoc(TypedDict, total=False):
    kind: Literal["organization", "coauthor", "relative", "entry"]
    organization_id: str | None
    person_name: str | None
    person_key: str | None  # folded name
    member_id: str | None
    entry_id: str | None
    note: str | None
    declared_by: str
    declared_at: datetime


class JudgeDoc(TypedDict):
    _id: str  # "<edition_id>:<username>"
    edition_id: str
    username: str
    full_name: str
    organization_id: str | None
    fields: list[str]
    status: Literal["active", "withdrawn"]
    conflicts: dict[str, ConflictDoc]
    withdrawn_reason: NotRequired[str]
    updated_at: datetime


class ResultsDoc(TypedDict):
    """The frozen ranking of a published edition."""

    _id: str  # the edition id
    published_at: datetime
    published_by: str
    items: list[dict[str, Any]]
    member_ids: list[str]


class FollowUpDoc(TypedDict):
    _id: str  # the entry id
    edition_id: str
    entry_code: str
    title: str
    potential: str
    contacts: list[dict[str, object]]
    support: dict[str, dict[str, object]]  # kind → {state, note, updated_at}
    state: Literal["open", "in_progress", "closed"]
    updated_at: datetime
    updated_by: str


class MemberDoc(TypedDict, total=False):
    _id: str
    full_name: str | None
    email: str | None
    phone: str | None
    language: str
    organization_ids: list[str]
    status: str
    as_of: datetime


class OrganizationDoc(TypedDict, total=False):
    _id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    status: str
    as_of: datetime
