"""The contests service's endpoints: request and response models and declarations.
The one module of the service the gateway imports (to route, validate and document).

Who calls what:
- the federation's office (admin, the organising board) runs editions, screening,
  panels, ranking, publication, certificates, exports and follow-ups;
- the contest's public website (a partner key with `contests:read`/`contests:write`)
  and association managers submit and follow entries within their reach, never
  seeing a score before publication;
- judges (staff accounts with the role `judge`) see only the entries assigned to
  them, and others' scores only once their own sheet is submitted;
- anyone reads editions, published results and verifies certificates.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from shared import parking
from shared.api import Api

api = Api("contests")

Kind = Literal["technical", "youth"]
Aggregation = Literal["mean", "median", "trimmed_mean"]
TierCode = Literal["first", "second", "third", "honourable"]
Board = Literal["primary", "lower_secondary", "upper_secondary"]
EntryStatus = Literal["submitted", "screened_in", "screened_out", "scored", "awarded", "not_awarded", "forwarded"]
Lang = Literal["vi", "en"]
Code = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]
Points = Annotated[Decimal, Field(ge=0, le=1000, max_digits=7, decimal_places=2)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Note = Annotated[str, Field(min_length=1, max_length=2000)]
Reason = Annotated[str, Field(min_length=10, max_length=1000, description="Written out: it is kept and shown")]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Labels = dict[str, str]  # {"vi": ..., "en": ...}
PDF = {"type": "string", "format": "binary"}
FILE_MEDIA: dict[str, Any] = {
    media: PDF
    for media in (
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/tiff",
        "image/vnd.dwg",
        "image/vnd.dxf",
        "application/acad",
        "application/dxf",
        "application/octet-stream",
    )
}
FILE_MEDIA["multipart/form-data"] = {"type": "object", "properties": {"file": PDF}}
TABLE_MEDIA = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": PDF,
    "text/csv": {"type": "string"},
}
UPLOAD_GUARD_BYTES = 27_262_976  # the gateway's cap; each kind's own limit is checked on its content


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Bilingual(Strict):
    vi: Name = Field(description="Vietnamese, always")
    en: Annotated[str, Field(max_length=200)] | None = None


# --- editions ---------------------------------------------------------------------------


class WindowIn(Strict):
    opens_at: datetime = Field(description="A time without a zone is Viet Nam time")
    closes_at: datetime

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _this_era(cls, value: datetime) -> datetime:
        if not 2000 <= value.year <= 2200:
            raise ValueError("a contest's dates lie between the years 2000 and 2200")
        return value


class TimelineIn(Strict):
    registration: WindowIn | None = None
    submission: WindowIn | None = Field(None, description="Documents may be sent until it closes")
    screening: WindowIn | None = Field(None, description="Sơ khảo")
    scoring: WindowIn | None = Field(None, description="Chung khảo")
    decision: WindowIn | None = Field(None, description="The organising board's decision")
    ceremony: WindowIn | None = None
    forwarding: WindowIn | None = Field(None, description="Forwarding to the national contest")


class FieldIn(Strict):
    code: Code
    name: Bilingual


class LevelIn(Strict):
    points_from: Points
    points_to: Points
    description: Bilingual


class CriterionIn(Strict):
    code: Code
    name: Bilingual
    max_points: Annotated[Decimal, Field(gt=0, le=1000, max_digits=7, decimal_places=2)]
    levels: list[LevelIn] = Field(default_factory=list, max_length=10)


class TierIn(Strict):
    code: TierCode
    threshold: Points
    quota: int | None = Field(None, ge=0, le=10_000, description="Places per ranking group; none: no limit")
    prize_vnd: int = Field(0, ge=0, le=10_000_000_000)


class EligibilityIn(Strict):
    applied_since: date | None = Field(None, description="Technical: applied in practice on or after this date")
    age_min: int = Field(6, ge=3, le=30)
    age_max: int = Field(18, ge=3, le=30)
    age_cutoff: date | None = Field(None, description="Youth: the day ages are counted on")
    boards: list[Board] | None = Field(None, max_length=3)
    supervisor_required: bool = True


class CommunityVoteIn(Strict):
    enabled: bool = False
    share: Decimal = Field(Decimal("0.1"), ge=0, le=Decimal("0.5"), decimal_places=3, description="Share of the total")


class EditionRules(Strict):
    name: Bilingual | None = None
    number: int | None = Field(None, ge=1, le=1000, description="Lần thứ (e.g. 10)")
    timeline: TimelineIn | None = None
    with_presentations: bool | None = Field(None, description="Final scoring includes presentations")
    fields: list[FieldIn] | None = Field(None, min_length=1, max_length=20)
    criteria: list[CriterionIn] | None = Field(None, min_length=1, max_length=12)
    tie_break: list[Code] | None = Field(None, max_length=12, description="Criterion codes, most decisive first")
    tiers: list[TierIn] | None = Field(None, min_length=1, max_length=4)
    aggregation: Aggregation | None = None
    min_judges: int | None = Field(None, ge=1, le=15)
    judges_per_entry: int | None = Field(None, ge=1, le=15)
    disagreement_threshold: Points | None = Field(None, description="A spread of totals at or above it is flagged")
    rank_by: list[Literal["field", "board"]] | None = Field(None, max_length=2)
    eligibility: EligibilityIn | None = None
    community_vote: CommunityVoteIn | None = None
    national_contest: Annotated[str, Field(max_length=300)] | None = None
    decision_number: Annotated[str, Field(max_length=60)] | None = Field(None, description="Số quyết định")


class EditionIn(EditionRules):
    code: str = Field(pattern=r"^[A-Z0-9-]{2,20}$", description="Short code, e.g. STKT10: entry numbers start with it")
    kind: Kind
    name: Bilingual


class WindowOut(BaseModel):
    label: Labels
    opens_at: datetime
    closes_at: datetime
    opens_at_local: str
    closes_at_local: str
    open_now: bool


class FieldOut(BaseModel):
    code: str
    name: dict[str, str | None]


class LevelOut(BaseModel):
    points_from: float
    points_to: float
    description: dict[str, str | None]


class CriterionOut(BaseModel):
    code: str
    name: dict[str, str | None]
    max_points: float
    levels: list[LevelOut]


class TierOut(BaseModel):
    code: TierCode
    label: Labels
    threshold: float
    quota: int | None
    prize_vnd: int


class Edition(BaseModel):
    id: str
    code: str
    kind: Kind
    kind_label: Labels
    number: int | None
    name: dict[str, str | None]
    status: Literal["open", "published"]
    timeline: dict[str, WindowOut]
    with_presentations: bool
    fields: list[FieldOut]
    criteria: list[CriterionOut]
    total_points: float
    tie_break: list[str]
    tiers: list[TierOut]
    aggregation: Aggregation
    aggregation_label: Labels
    min_judges: int
    judges_per_entry: int
    disagreement_threshold: float | None
    rank_by: list[str]
    eligibility: dict[str, Any]
    community_vote: dict[str, Any]
    national_contest: str | None
    decision_number: str | None = None
    entries: int
    published_at: datetime | None = None


class EditionList(BaseModel):
    items: list[Edition]


# --- entries ----------------------------------------------------------------------------


class AuthorIn(Strict):
    full_name: Name | None = Field(None, description="Required unless member_id names a known member")
    member_id: Id | None = None
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None
    language: Lang = "vi"
    share: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)] | None = Field(
        None, description="Share of authorship, %; give all or none"
    )
    date_of_birth: date | None = None
    school: Annotated[str, Field(max_length=200)] | None = None
    grade: Annotated[str, Field(max_length=20)] | None = None


class EntrantIn(Strict):
    kind: Literal["individual", "group", "organization"]
    organization_id: Id | None = Field(None, description="A member organisation entering (or the authors' employer)")
    organization_name: Annotated[str, Field(max_length=300)] | None = Field(None, description="Any other organisation")
    authors: list[AuthorIn] = Field(min_length=1, max_length=20)


class SupervisorIn(Strict):
    full_name: Name
    school: Annotated[str, Field(max_length=200)] | None = None
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None
    language: Lang = "vi"


class HistoryIn(Strict):
    previously_entered: bool = Field(False, description="Entered in an earlier contest (then it may not enter)")
    prior_awards: Annotated[str, Field(max_length=1000)] | None = None


class EntryFields(Strict):
    title: Annotated[str, Field(min_length=5, max_length=300)] | None = None
    field: Code | None = None
    summary: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    description: Annotated[str, Field(max_length=50_000)] | None = None
    applied_since: date | None = Field(None, description="Technical: when it was first applied in practice")
    application_place: Annotated[str, Field(max_length=500)] | None = None
    supervisor: SupervisorIn | None = Field(None, description="Youth: the supervising teacher")
    board: Board | None = Field(None, description="Youth: the school board")


class EntryIn(EntryFields):
    title: Annotated[str, Field(min_length=5, max_length=300)]
    field: Code
    summary: Annotated[str, Field(min_length=1, max_length=4000)]
    entrant: EntrantIn
    history: HistoryIn = HistoryIn()


class EntryPatch(EntryFields):
    entrant: EntrantIn | None = None


class EntryQuery(Strict):
    status: list[EntryStatus] | None = None
    field: Code | None = None
    after: Annotated[str, Field(max_length=40)] | None = Field(None, description="Entry number to continue after")
    limit: int = Field(50, ge=1, le=200)

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class DocumentQuery(Strict):
    name: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="The file's name (a form's file name otherwise)"
    )


class AuthorOut(BaseModel):
    full_name: str
    member_id: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str = "vi"
    share: float | None = None
    date_of_birth: date | None = None
    school: str | None = None
    grade: str | None = None


class EntrantOut(BaseModel):
    kind: str
    organization_id: str | None = None
    organization_name: str | None = None
    authors: list[AuthorOut]


class DocumentOut(BaseModel):
    id: str
    name: str
    media_type: str
    kind: str
    size: int
    sha256: str
    uploaded_at: datetime
    url: str


class StatusChange(BaseModel):
    status: EntryStatus
    label: Labels
    at: datetime
    reason: str | None = None


class EntryResult(BaseModel):
    rank: int | None = None
    final_score: float | None = None
    tier: TierCode | None = None
    tier_label: Labels
    prize_vnd: int = 0
    decided_by_board: bool = False
    board_reason: str | None = None


class Entry(BaseModel):
    id: str
    code: str
    edition_id: str
    title: str
    field: str
    field_label: dict[str, str | None]
    summary: str
    description: str | None = None
    applied_since: date | None = None
    application_place: str | None = None
    entrant: EntrantOut
    supervisor: dict[str, Any] | None = None
    board: Board | None = None
    status: EntryStatus
    status_label: Labels
    status_history: list[StatusChange]
    documents: list[DocumentOut]
    screening_reason: str | None = None
    warnings: list[dict[str, Any]] | None = Field(None, description="For the board: possible repeats of past entries")
    result: EntryResult | None = Field(None, description="Only once the edition's results are published")
    certificate: dict[str, str] | None = None
    created_at: datetime
    updated_at: datetime


class EntryPage(BaseModel):
    items: list[Entry]
    next_after: str | None = None


class ScreeningIn(Strict):
    decision: Literal["in", "out"]
    reason: Annotated[str, Field(min_length=3, max_length=1000)] | None = Field(
        None, description="Required to screen out"
    )

    @model_validator(mode="after")
    def _out_needs_a_reason(self) -> ScreeningIn:
        if self.decision == "out" and not self.reason:
            raise ValueError("a reason is required to screen an entry out")
        return self


# --- judges, conflicts, assignment --------------------------------------------------------


class JudgeIn(Strict):
    full_name: Name
    organization_id: Id | None = Field(None, description="The judge's own organisation (never judges its entries)")
    fields: list[Code] = Field(min_length=1, max_length=20, description="The panels (fields) the judge sits on")


class ConflictIn(Strict):
    kind: Literal["organization", "coauthor", "relative", "entry"]
    organization_id: Id | None = None
    person_name: Name | None = Field(None, description="A co-author or relative, as named in entries")
    member_id: Id | None = None
    entry_id: Id | None = Field(None, description="An entry the judge recuses themself from")
    note: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _names_what(self) -> ConflictIn:
        needed = {
            "organization": self.organization_id,
            "entry": self.entry_id,
            "coauthor": self.person_name or self.member_id,
            "relative": self.person_name or self.member_id,
        }[self.kind]
        if not needed:
            raise ValueError(f"a {self.kind} conflict names who or what it is about")
        return self


class OwnConflictIn(ConflictIn):
    edition_id: Id


class ConflictOut(BaseModel):
    id: str
    kind: str
    organization_id: str | None = None
    person_name: str | None = None
    member_id: str | None = None
    entry_id: str | None = None
    note: str | None = None
    declared_by: str
    declared_at: datetime


class Judge(BaseModel):
    username: str
    full_name: str
    organization_id: str | None = None
    organization_name: str | None = None
    fields: list[str]
    status: Literal["active", "withdrawn"]
    conflicts: list[ConflictOut]
    assigned: int
    submitted: int


class JudgeList(BaseModel):
    items: list[Judge]


class ConflictList(BaseModel):
    items: list[ConflictOut]


class WithdrawIn(Strict):
    reason: Reason


class AssignIn(Strict):
    judges_per_entry: int | None = Field(None, ge=1, le=15, description="Default: the edition's")


class AssignOneIn(Strict):
    judge: Annotated[str, Field(min_length=1, max_length=64)]


class Shortfall(BaseModel):
    entry_id: str
    code: str
    wanted: int
    assigned: int


class AssignmentReport(BaseModel):
    assigned: int
    pairs: list[dict[str, str]]
    shortfalls: list[Shortfall]


# --- judging --------------------------------------------------------------------------------


class SheetIn(Strict):
    scores: dict[Code, Points] = Field(max_length=12, description="Points per criterion code")
    comment: Annotated[str, Field(max_length=4000)] | None = None
    submit: bool = Field(False, description="Submit the sheet: it can then be reopened only by the board")


class Sheet(BaseModel):
    entry_id: str
    judge: str
    status: Literal["assigned", "submitted", "reopened", "withdrawn"]
    scores: dict[str, float]
    total: float
    comment: str | None = None
    submitted_at: datetime | None = None
    reopen_reasons: list[str] = []


class OtherSheet(BaseModel):
    judge_label: Labels = Field(description="Judges stay anonymous to each other")
    total: float
    scores: dict[str, float]


class JudgingView(BaseModel):
    entry: Entry
    criteria: list[CriterionOut]
    sheet: Sheet
    others_hidden: bool = Field(description="Others' scores show once this judge's sheet is submitted")
    others: list[OtherSheet]


class Assigned(BaseModel):
    entry_id: str
    code: str
    edition_id: str
    title: str
    field: str
    sheet_status: str
    total: float | None = None


class AssignedList(BaseModel):
    items: list[Assigned]


class JudgingQuery(Strict):
    edition_id: Id | None = None


class ReopenIn(Strict):
    reason: Reason


# --- ranking, overrides, votes ------------------------------------------------------------


class RankingQuery(Strict):
    sort: Literal["rank", "disagreement"] = "rank"
    group: Annotated[str, Field(max_length=80)] | None = None


class JudgeScore(BaseModel):
    judge: str
    total: float


class Placement(BaseModel):
    entry_id: str
    code: str
    title: str
    field: str
    group: str
    rank: int | None
    complete: bool
    sheets_submitted: int
    judges: list[JudgeScore]
    judges_score: float | None
    criteria_scores: dict[str, float]
    votes: int
    community_points: float
    final_score: float | None
    spread: float | None
    stddev: float | None
    look_again: bool
    tier_by_rules: TierCode | None
    tier: TierCode | None
    tier_label: Labels
    prize_vnd: int
    override: dict[str, Any] | None
    explanation: list[str]
    tie_broken_by: str | None


class TierCount(BaseModel):
    group: str
    tier: TierCode
    label: Labels
    awarded: int
    quota: int | None


class Ranking(BaseModel):
    edition_id: str
    published: bool
    aggregation: Aggregation
    items: list[Placement]
    tiers: list[TierCount]


class OverrideIn(Strict):
    tier: TierCode | Literal["none"]
    reason: Reason


class VotesIn(Strict):
    votes: dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(ge=0, le=100_000_000)]] = Field(
        max_length=20_000, description="Entry number → votes counted by the contest's website"
    )


class VotesOut(BaseModel):
    updated: int
    unknown: list[str]


# --- results, certificates, forwarding ------------------------------------------------------


class PublicResult(BaseModel):
    code: str
    title: str
    field: str
    field_label: dict[str, str | None]
    group: str
    authors: list[str]
    organization: str | None
    rank: int | None
    final_score: float | None
    tier: TierCode | None
    tier_label: Labels
    prize_vnd: int
    decided_by_board: bool
    board_reason: str | None


class PublicResults(BaseModel):
    edition_id: str
    name: dict[str, str | None]
    published_at: datetime
    decision_number: str | None
    items: list[PublicResult]


class PublishOut(BaseModel):
    edition_id: str
    published_at: datetime
    awarded: int
    not_awarded: int


class IssueOut(BaseModel):
    issued: int
    already_issued: int


class CertificateCheck(BaseModel):
    valid: bool
    code: str
    edition: dict[str, str | None]
    entry_code: str
    title: str
    authors: list[str]
    tier: TierCode | None
    tier_label: Labels
    issued_at: datetime | None


class ForwardIn(Strict):
    note: Annotated[str, Field(max_length=1000)] | None = None


# --- exports, follow-ups -------------------------------------------------------------------


class ExportQuery(Strict):
    format: Literal["xlsx", "csv"] = "xlsx"
    judge: Annotated[str, Field(max_length=64)] | None = Field(None, description="Score sheets of one judge")


class ContactIn(Strict):
    full_name: Name
    role: Annotated[str, Field(max_length=200)] | None = None
    email: EmailStr | None = None
    phone: Annotated[str, Field(max_length=32)] | None = None


class SupportIn(Strict):
    kind: Literal["patent", "investor", "seminar", "other"]
    state: Literal["offered", "in_progress", "done", "declined"] = "offered"
    note: Annotated[str, Field(max_length=1000)] | None = None


class FollowUpIn(Strict):
    potential: Note
    contacts: list[ContactIn] = Field(default_factory=list, max_length=10)
    support: list[SupportIn] = Field(default_factory=list, max_length=4)
    state: Literal["open", "in_progress", "closed"] = "open"

    @model_validator(mode="after")
    def _one_record_per_kind(self) -> FollowUpIn:
        kinds = [s.kind for s in self.support]
        if len(kinds) != len(set(kinds)):
            raise ValueError("one support record per kind")
        return self


class FollowUp(BaseModel):
    entry_id: str
    entry_code: str
    edition_id: str
    title: str
    potential: str
    contacts: list[dict[str, Any]]
    support: list[dict[str, Any]]
    state: Literal["open", "in_progress", "closed"]
    updated_at: datetime
    updated_by: str


class FollowUpList(BaseModel):
    items: list[FollowUp]


class FollowUpQuery(Strict):
    state: Literal["open", "in_progress", "closed"] | None = None
    edition_id: Id | None = None
    limit: int = Field(100, ge=1, le=500)


# --- declarations ------------------------------------------------------------------------------

EDITIONS, ENTRIES, JUDGING, BOARD = ("contest editions",), ("contest entries",), ("judging",), ("organising board",)

list_editions = api.endpoint(
    "list_editions",
    "GET",
    "/contests/editions",
    summary="Contest editions",
    response=EditionList,
    public=True,
    tags=EDITIONS,
)
create_edition = api.endpoint(
    "create_edition",
    "POST",
    "/contests/editions",
    summary="Open a contest edition (its rules default to the contest's usual ones)",
    body=EditionIn,
    response=Edition,
    status=201,
    admin_only=True,
    errors=(409,),
    tags=EDITIONS,
)
get_edition = api.endpoint(
    "get_edition",
    "GET",
    "/contests/editions/{edition_id}",
    summary="One edition",
    response=Edition,
    public=True,
    errors=(404,),
    tags=EDITIONS,
)
update_edition = api.endpoint(
    "update_edition",
    "PATCH",
    "/contests/editions/{edition_id}",
    summary="Change an edition's rules or timeline (criteria are fixed once a sheet is submitted)",
    body=EditionRules,
    response=Edition,
    admin_only=True,
    errors=(404, 409),
    tags=EDITIONS,
)
submit_entry = api.endpoint(
    "submit_entry",
    "POST",
    "/contests/editions/{edition_id}/entries",
    summary="Submit an entry (during registration)",
    body=EntryIn,
    response=Entry,
    status=201,
    scope="contests:write",
    errors=(404, 409),
    tags=ENTRIES,
)
list_entries = api.endpoint(
    "list_entries",
    "GET",
    "/contests/editions/{edition_id}/entries",
    summary="Entries of an edition within the caller's reach",
    query=EntryQuery,
    response=EntryPage,
    scope="contests:read",
    errors=(404,),
    tags=ENTRIES,
)
get_entry = api.endpoint(
    "get_entry",
    "GET",
    "/contests/entries/{entry_id}",
    summary="One entry (judges: only those assigned to them)",
    response=Entry,
    scope="contests:read",
    judges=True,
    errors=(404,),
    tags=ENTRIES,
)
update_entry = api.endpoint(
    "update_entry",
    "PATCH",
    "/contests/entries/{entry_id}",
    summary="Change an entry before screening, while documents are accepted",
    body=EntryPatch,
    response=Entry,
    scope="contests:write",
    errors=(404, 409),
    tags=ENTRIES,
)
attach_document = api.endpoint(
    "attach_document",
    "POST",
    "/contests/entries/{entry_id}/documents",
    summary="Attach a document (PDF, image, drawing): its type and size limit come from its content",
    description="Send the file as the body, or as the `file` field of a multipart form; `?name=` names it.",
    query=DocumentQuery,
    request_media=FILE_MEDIA,
    response=Entry,
    status=201,
    scope="contests:write",
    errors=(404, 409, 413, 415),
    max_body_bytes=UPLOAD_GUARD_BYTES,
    tags=ENTRIES,
)
get_document = api.endpoint(
    "get_document",
    "GET",
    "/contests/entries/{entry_id}/documents/{document_id}",
    summary="Download a document of an entry",
    response_media={m: PDF for m in ("application/pdf", "image/png", "image/jpeg", "application/octet-stream")},
    scope="contests:read",
    judges=True,
    errors=(404,),
    tags=ENTRIES,
)
remove_document = api.endpoint(
    "remove_document",
    "DELETE",
    "/contests/entries/{entry_id}/documents/{document_id}",
    summary="Remove a document while documents are accepted",
    response=Entry,
    scope="contests:write",
    errors=(404, 409),
    tags=ENTRIES,
)
screen_entry = api.endpoint(
    "screen_entry",
    "POST",
    "/contests/entries/{entry_id}/screening",
    summary="Screening (sơ khảo): in, or out with the reason",
    body=ScreeningIn,
    response=Entry,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
put_judge = api.endpoint(
    "put_judge",
    "PUT",
    "/contests/editions/{edition_id}/judges/{username}",
    summary="Seat a judge (a staff account with the role judge) on panels",
    body=JudgeIn,
    response=Judge,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
list_judges = api.endpoint(
    "list_judges",
    "GET",
    "/contests/editions/{edition_id}/judges",
    summary="The edition's judges, their conflicts and load",
    response=JudgeList,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
withdraw_judge = api.endpoint(
    "withdraw_judge",
    "POST",
    "/contests/editions/{edition_id}/judges/{username}/withdraw",
    summary="A judge leaves the panel: their sheets stop counting and the ranking is recomputed",
    body=WithdrawIn,
    response=Judge,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
record_conflict = api.endpoint(
    "record_conflict",
    "POST",
    "/contests/editions/{edition_id}/judges/{username}/conflicts",
    summary="Record a judge's conflict of interest (an assigned entry it touches is taken back)",
    body=ConflictIn,
    response=Judge,
    status=201,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
assign_entries = api.endpoint(
    "assign_entries",
    "POST",
    "/contests/editions/{edition_id}/assignments",
    summary="Assign screened-in entries to their field's judges, never with a conflict",
    body=AssignIn,
    response=AssignmentReport,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
assign_entry = api.endpoint(
    "assign_entry",
    "POST",
    "/contests/entries/{entry_id}/assignments",
    summary="Assign one entry to one judge (refused with a conflict)",
    body=AssignOneIn,
    response=AssignmentReport,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
declare_conflict = api.endpoint(
    "declare_conflict",
    "POST",
    "/contests/judging/conflicts",
    summary="A judge declares a conflict of interest",
    body=OwnConflictIn,
    response=ConflictList,
    status=201,
    judges=True,
    errors=(404, 409),
    tags=JUDGING,
)
my_conflicts = api.endpoint(
    "my_conflicts",
    "GET",
    "/contests/judging/conflicts",
    summary="The conflicts a judge declared",
    query=JudgingQuery,
    response=ConflictList,
    judges=True,
    tags=JUDGING,
)
my_entries = api.endpoint(
    "my_entries",
    "GET",
    "/contests/judging/entries",
    summary="The entries assigned to the calling judge",
    query=JudgingQuery,
    response=AssignedList,
    judges=True,
    tags=JUDGING,
)
my_sheet = api.endpoint(
    "my_sheet",
    "GET",
    "/contests/judging/entries/{entry_id}",
    summary="An assigned entry with the judge's sheet (others' scores once it is submitted)",
    response=JudgingView,
    judges=True,
    errors=(404,),
    tags=JUDGING,
)
score_entry = api.endpoint(
    "score_entry",
    "PUT",
    "/contests/judging/entries/{entry_id}/sheet",
    summary="Save or submit the judge's score sheet (during final scoring)",
    body=SheetIn,
    response=JudgingView,
    judges=True,
    errors=(404, 409),
    tags=JUDGING,
)
reopen_sheet = api.endpoint(
    "reopen_sheet",
    "POST",
    "/contests/entries/{entry_id}/sheets/{username}/reopen",
    summary="The board reopens a submitted sheet, with the reason recorded",
    body=ReopenIn,
    response=Sheet,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
get_ranking = api.endpoint(
    "get_ranking",
    "GET",
    "/contests/editions/{edition_id}/ranking",
    summary="The ranking with tiers, quotas, disagreement and every override explained",
    query=RankingQuery,
    response=Ranking,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
set_override = api.endpoint(
    "set_override",
    "PUT",
    "/contests/entries/{entry_id}/override",
    summary="The board sets an entry's tier, with the reason (shown in the results)",
    body=OverrideIn,
    response=Entry,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
clear_override = api.endpoint(
    "clear_override",
    "DELETE",
    "/contests/entries/{entry_id}/override",
    summary="Withdraw the board's override: the rules decide again",
    response=Entry,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
record_votes = api.endpoint(
    "record_votes",
    "PUT",
    "/contests/editions/{edition_id}/community-votes",
    summary="The community vote's tally, counted by the contest's website",
    body=VotesIn,
    response=VotesOut,
    scope="contests:write",
    errors=(404, 409),
    tags=EDITIONS,
)
publish_results = api.endpoint(
    "publish_results",
    "POST",
    "/contests/editions/{edition_id}/publish",
    summary="Publish the results: entrants are told, the public list opens (again: finishes an interrupted run)",
    response=PublishOut,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
get_results = api.endpoint(
    "get_results",
    "GET",
    "/contests/editions/{edition_id}/results",
    summary="Published results, without any judge's own scores",
    response=PublicResults,
    public=True,
    errors=(404,),
    tags=EDITIONS,
)
award_decision = api.endpoint(
    "award_decision",
    "GET",
    "/contests/editions/{edition_id}/decision",
    summary="The award decision as a PDF (marked draft until the results are published)",
    response_media={"application/pdf": PDF},
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
issue_certificates = api.endpoint(
    "issue_certificates",
    "POST",
    "/contests/editions/{edition_id}/certificates",
    summary="Issue award certificates to every awarded entry (once each)",
    response=IssueOut,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
verify_certificate = api.endpoint(
    "verify_certificate",
    "GET",
    "/contests/certificates/{code}",
    summary="Verify an award certificate",
    response=CertificateCheck,
    public=True,
    errors=(404,),
    tags=EDITIONS,
)
certificate_pdf = api.endpoint(
    "certificate_pdf",
    "GET",
    "/contests/certificates/{code}/pdf",
    summary="An award certificate as a PDF",
    response_media={"application/pdf": PDF},
    public=True,
    errors=(404,),
    tags=EDITIONS,
)
forward_entry = api.endpoint(
    "forward_entry",
    "POST",
    "/contests/entries/{entry_id}/forward",
    summary="Send an awarded entry on to the national contest",
    body=ForwardIn,
    response=Entry,
    admin_only=True,
    errors=(404, 409),
    tags=BOARD,
)
export_score_sheets = api.endpoint(
    "export_score_sheets",
    "GET",
    "/contests/editions/{edition_id}/exports/score-sheets",
    summary="Score sheets, per judge (XLSX or CSV)",
    query=ExportQuery,
    response_media=TABLE_MEDIA,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
export_entry_scores = api.endpoint(
    "export_entry_scores",
    "GET",
    "/contests/editions/{edition_id}/exports/entry-scores",
    summary="Each entry with every judge's scores",
    query=ExportQuery,
    response_media=TABLE_MEDIA,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
export_ranking = api.endpoint(
    "export_ranking",
    "GET",
    "/contests/editions/{edition_id}/exports/ranking",
    summary="The ranking with tiers and their explanations",
    query=ExportQuery,
    response_media=TABLE_MEDIA,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
export_forwarded = api.endpoint(
    "export_forwarded",
    "GET",
    "/contests/editions/{edition_id}/exports/forwarded",
    summary="The dossier of entries forwarded to the national contest",
    query=ExportQuery,
    response_media=TABLE_MEDIA,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
put_followup = api.endpoint(
    "put_followup",
    "PUT",
    "/contests/entries/{entry_id}/follow-up",
    summary="Commercialisation follow-up of an entry with potential",
    body=FollowUpIn,
    response=FollowUp,
    admin_only=True,
    errors=(404,),
    tags=BOARD,
)
list_followups = api.endpoint(
    "list_followups",
    "GET",
    "/contests/follow-ups",
    summary="Commercialisation follow-ups, newest first",
    query=FollowUpQuery,
    response=FollowUpList,
    admin_only=True,
    tags=BOARD,
)
list_parked = api.endpoint("list_parked", "GET", "/contests/parked-messages", **parking.LIST)
replay_parked = api.endpoint("replay_parked", "POST", "/contests/parked-messages/{consumer}/replay", **parking.REPLAY)
