"""The membership service's endpoint declarations and the shapes of its requests and
answers: the one module of the service the gateway imports (to route, validate and
document requests). It imports nothing else of the service.

Input is made clean here, by the models (names trimmed to single spaces, emails
lower-cased, phones in E.164, titles in their usual abbreviations), so a use case only
ever sees clean values; explicit `null` for something a member or an organisation
cannot be without is refused as invalid input.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from shared import parking
from shared.api import Api
from shared.contracts import Consents
from shared.text import fold, normalise_name, normalise_phone

api = Api("membership", tag="members")
READ, WRITE = "members:read", "members:write"
ORGS = ("organizations",)

Lang = Literal["vi", "en"]
Gender = Literal["male", "female", "other"]
Kind = Literal["federation", "association", "centre", "branch", "enterprise"]
OrgStatus = Literal["active", "inactive", "dissolved"]
DuesState = Literal["paid", "unpaid"]
JobState = Literal["queued", "running", "done", "failed", "interrupted"]
STATUSES = ("applied", "active", "suspended", "lapsed", "resigned", "rejected", "erased")
Status = Literal["applied", "active", "suspended", "lapsed", "resigned", "rejected", "erased"]
# Academic titles (học hàm) and degrees (học vị) in the abbreviations staff write.
TITLES = ("GS", "PGS", "TSKH", "TS", "ThS", "KS", "KTS", "BS", "DS", "CN")
Title = Literal["GS", "PGS", "TSKH", "TS", "ThS", "KS", "KTS", "BS", "DS", "CN"]
_TITLE_BY_FOLD = {t.lower(): t for t in TITLES}
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
ID = Field(max_length=64)


class InvalidTitle(ValueError):
    pass


def parse_titles(raw: str) -> list[str]:
    """`PGS.TS`, `pgs, ts`, `ThS.` → ["PGS", "TS"]; an unknown abbreviation is refused."""
    out: list[str] = []
    for part in re.split(r"[\s.,;/+]+", raw.strip()):
        if not part:
            continue
        title = _TITLE_BY_FOLD.get(fold(part))
        if title is None:
            raise InvalidTitle(f"unknown title or degree {part!r}; expected one of {', '.join(TITLES)}")
        if title not in out:
            out.append(title)
    return out


def normalise_code(raw: str) -> str:
    return raw.strip().upper()


# --- cleaning --------------------------------------------------------------------------


def _clean_name(value: str) -> str:
    name = normalise_name(value)
    if not name:
        raise ValueError("full name is empty")
    return name


def _clean_phone(value: str | None) -> str | None:
    if not value:
        return None
    return normalise_phone(value)  # InvalidPhone: a 422 in the caller's language (shared.errors)


def _clean_titles(value: Any) -> list[str]:
    if not value:
        return []
    if not isinstance(value, str) and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"a list of titles and degrees ({', '.join(TITLES)})")
    try:
        return parse_titles(value if isinstance(value, str) else " ".join(value))
    except InvalidTitle as exc:
        raise ValueError(str(exc)) from None


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, not null")
    return value


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- members ---------------------------------------------------------------------------


class MemberIn(Strict):
    """A member as staff enter it."""

    full_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32, description="Any common writing; stored as E.164")
    date_of_birth: date | None = None
    gender: Gender | None = None
    titles: list[str] = Field(
        default_factory=list, max_length=5, description=f"Academic titles and degrees: {', '.join(TITLES)}"
    )
    expertise: str | None = Field(None, max_length=200, description="Field of expertise")
    language: Lang = "vi"
    consents: Consents = Consents()
    consent_source: str = Field("staff", max_length=100, description="How the consents were given (form, call…)")
    organization_ids: list[str] = Field(default_factory=list, max_length=20)

    _name = field_validator("full_name")(classmethod(lambda cls, v: _clean_name(v)))
    _phone = field_validator("phone")(classmethod(lambda cls, v: _clean_phone(v)))
    _titles = field_validator("titles", mode="before")(classmethod(lambda cls, v: _clean_titles(v)))
    _email = field_validator("email")(classmethod(lambda cls, v: _lower(v)))
    _nulls = field_validator("consents", "language", "consent_source", mode="before")(
        classmethod(lambda cls, v: _not_null(v))
    )

    @field_validator("organization_ids", mode="before")
    @classmethod
    def _orgs(cls, value: Any) -> Any:
        return list(dict.fromkeys(_not_null(value))) if isinstance(value, list) else _not_null(value)


class MemberPatch(Strict):
    """A change to a member's profile: only the fields sent change (null clears the
    optional ones; a member always keeps a name, organisations and consents)."""

    full_name: str | None = Field(None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32)
    date_of_birth: date | None = None
    gender: Gender | None = None
    titles: list[str] | None = Field(None, max_length=5)
    expertise: str | None = Field(None, max_length=200)
    language: Lang | None = None
    consents: Consents | None = None
    consent_source: str = Field("staff", max_length=100)
    organization_ids: list[str] | None = Field(None, min_length=1, max_length=20)

    _phone = field_validator("phone")(classmethod(lambda cls, v: _clean_phone(v)))
    _email = field_validator("email")(classmethod(lambda cls, v: _lower(v)))
    _nulls = field_validator("full_name", "language", "consents", "organization_ids", "consent_source", mode="before")(
        classmethod(lambda cls, v: _not_null(v))
    )

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _clean_name(value)

    @field_validator("titles", mode="before")
    @classmethod
    def _titles(cls, value: Any) -> Any:
        return None if value is None else _clean_titles(value)


class ConsentRecord(BaseModel):
    """One channel's consent: given or withdrawn, when, and how we learnt it."""

    granted: bool
    at: datetime
    source: str


class Term(BaseModel):
    start: date
    end: date


class Member(BaseModel):
    """A member as the API shows it (who did what among staff: to staff only)."""

    id: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    gender: Gender | None = None
    titles: list[str] = []
    expertise: str | None = None
    language: Lang = "vi"
    consents: Consents = Consents()
    consent_records: dict[str, ConsentRecord] = {}
    organization_ids: list[str] = []
    status: str
    young_intellectual: bool = Field(False, description="35 or under today (derived from the date of birth)")
    term: Term | None = None
    dues_state: DuesState | None = None
    created_at: datetime
    created_by: str | None = Field(None, description="Staff only")
    updated_at: datetime
    approved_at: datetime | None = None
    approved_by: str | None = Field(None, description="Staff only")
    rejected_at: datetime | None = None
    rejected_by: str | None = Field(None, description="Staff only")
    erased_at: datetime | None = None


class MemberFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str | None = Field(None, max_length=200, description="Name (case and diacritics ignored), email or phone")
    organization_id: str | None = Field(None, max_length=64)
    include_subtree: bool = Field(True, description="Also members of the organisation's sub-organisations")
    status: Status | None = None
    expertise: str | None = Field(None, max_length=200)
    title: Title | None = None
    young_intellectual: bool | None = Field(None, description="35 or under today")
    dues_state: DuesState | None = Field(None, description="Dues for the current term paid or not")


class MemberQuery(MemberFilters):
    limit: int = Field(50, ge=1, le=200, description="Members per page (at most 200)")
    after: str | None = Field(None, max_length=400, description="`next_after` of the previous page")


class ExportQuery(MemberFilters):
    format: Literal["csv", "xlsx"] = "csv"
    lang: Lang | None = Field(None, description="Language of the headers (default: Accept-Language, else vi)")


class MemberPage(BaseModel):
    items: list[Member]
    next_after: str | None = None


class HistoryEntry(BaseModel):
    at: datetime
    by: str
    action: str
    changes: dict[str, Any] | None = None
    note: str | None = None


class History(BaseModel):
    items: list[HistoryEntry]


class DuplicateGroup(BaseModel):
    members: list[Member]


class DuplicateGroups(BaseModel):
    groups: list[DuplicateGroup]


class StatusCounts(BaseModel):
    counts: dict[str, int]


class TransitionIn(Strict):
    reason: str | None = Field(None, max_length=500, description="Why (kept in the member's history)")


class DuesIn(Strict):
    amount_vnd: int = Field(ge=0, le=10_000_000_000, description="Amount paid, in VND")
    paid_on: date
    receipt_number: str | None = Field(None, max_length=64)


class RenewIn(Strict):
    years: int = Field(1, ge=1, le=10)
    term_start: date | None = Field(None, description="Explicit start of the new term (a correction by staff)")
    term_end: date | None = Field(None, description="Explicit end of the new term (instead of `years`)")
    dues: DuesIn | None = None


class PersonalData(Member):
    history: list[HistoryEntry]
    dues_payments: list[dict[str, Any]]
    organizations: list[dict[str, str]]


# --- imports ----------------------------------------------------------------------------


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wait: bool = Field(False, description="Answer only when the import is finished (small files)")
    lang: Lang | None = Field(None, description="Language of the reasons (default: Accept-Language, else vi)")


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Lang | None = None
    limit: int = Field(500, ge=1, le=5000, description="Rejected rows per page")
    after_line: int | None = Field(None, ge=0, le=10_000_000, description="`errors_next_after_line` of the last page")


class RowRejection(BaseModel):
    line: int = Field(description="Line in the file, the header being line 1")
    column: str = Field(description="The column at fault, as headed in the file")
    code: str
    reason: str
    existing_member_id: str | None = Field(None, description="Only when that member is within your reach")


class ImportReport(BaseModel):
    id: str
    state: JobState
    filename: str | None = None
    bytes: int
    rows: int = Field(description="Rows read so far")
    total_rows: int | None = Field(None, description="Rows in the file (known once the file has been read)")
    created: int
    updated: int
    unchanged: int
    rejected: int
    last_line: int | None = None
    errors: list[RowRejection]
    errors_next_after_line: int | None = None
    error: dict[str, str] | None = None
    created_at: datetime
    finished_at: datetime | None = None


class RejectedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "xlsx"] = "xlsx"
    lang: Lang | None = Field(None, description="Language of the reasons and headers (default: Accept-Language)")


class ImportSummary(BaseModel):
    id: str
    state: JobState
    filename: str | None = None
    bytes: int
    rows: int
    total_rows: int | None = None
    created: int
    updated: int
    unchanged: int
    rejected: int
    created_by: str
    created_at: datetime
    finished_at: datetime | None = None


class ImportList(BaseModel):
    items: list[ImportSummary]


class RecentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(20, ge=1, le=100)


class OrganizationImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowRejection]


class LangQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Lang | None = None


SPREADSHEET_MEDIA = {
    "text/csv": {"type": "string", "description": "UTF-8 (with or without BOM), comma or semicolon separated"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"type": "string", "format": "binary"},
    "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
    # What Windows browsers send for a .csv file, and generic clients for any file.
    "application/vnd.ms-excel": {"type": "string", "format": "binary"},
    "application/octet-stream": {"type": "string", "format": "binary"},
}
TABLE_MEDIA = {
    "text/csv": {"type": "string"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"type": "string", "format": "binary"},
}


# --- organisations ------------------------------------------------------------------------


class OrganizationIn(Strict):
    """An organisation as staff enter it."""

    code: str = Field(min_length=2, max_length=40, description="Unique code, e.g. HOI-TIN-HOC")
    name: str = Field(min_length=1, max_length=300, description="Vietnamese name")
    kind: Kind
    parent_id: str | None = Field(None, max_length=64, description="Required except for the federation")
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=300)
    status: OrgStatus = "active"

    _name = field_validator("name")(classmethod(lambda cls, v: normalise_name(v)))
    _email = field_validator("contact_email")(classmethod(lambda cls, v: _lower(v)))
    _phone = field_validator("contact_phone")(classmethod(lambda cls, v: _clean_phone(v)))

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        code = normalise_code(value)
        if not CODE.match(code):
            raise ValueError("capital letters, digits and hyphens, e.g. HOI-TIN-HOC")
        return code


class OrganizationPatch(Strict):
    """A change: name, contacts, status, or a move (new `parent_id`)."""

    name: str | None = Field(None, min_length=1, max_length=300)
    parent_id: str | None = Field(None, max_length=64)
    contact_email: EmailStr | None = None
    contact_phone: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=300)
    status: OrgStatus | None = None

    _nulls = field_validator("name", "status", mode="before")(classmethod(lambda cls, v: _not_null(v)))
    _name = field_validator("name")(classmethod(lambda cls, v: None if v is None else normalise_name(v)))
    _email = field_validator("contact_email")(classmethod(lambda cls, v: _lower(v)))
    _phone = field_validator("contact_phone")(classmethod(lambda cls, v: _clean_phone(v)))


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
    member_count: int | None = Field(None, description="Members (not erased) of this organisation, when asked")
    created_at: datetime
    updated_at: datetime


class Federation(BaseModel):
    name: str = Field(description="The root organisation's name; the FEDERATION_NAME setting before there is a tree")
    organization_id: str | None = Field(None, description="The root organisation (None before there is a tree)")


class OrganizationList(BaseModel):
    items: list[Organization]


class OrganizationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind | None = None
    status: OrgStatus | None = None
    with_counts: bool = Field(False, description="Give each organisation's member count (within your reach)")


class UnpaidQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)
    after: str | None = Field(None, max_length=400)


# --- endpoints: organisations --------------------------------------------------------------

import_organizations = api.endpoint(
    "import_organizations_file",
    "POST",
    "/organizations/imports",
    summary="Import organisations from CSV or XLSX",
    description="Columns: Mã đơn vị, Tên đơn vị, Loại, Đơn vị cấp trên (or code, name, kind, parent_code). "
    "Parents are placed before their children; existing codes are updated.",
    query=LangQuery,
    request_media=SPREADSHEET_MEDIA,
    response=OrganizationImportReport,
    admin_only=True,
    errors=(413, 415),
    tags=ORGS,
)
create_organization = api.endpoint(
    "create_organization",
    "POST",
    "/organizations",
    summary="Add an organisation to the tree",
    body=OrganizationIn,
    response=Organization,
    status=201,
    scope=WRITE,
    errors=(403, 404, 409),
    tags=ORGS,
)
list_organizations = api.endpoint(
    "list_organizations",
    "GET",
    "/organizations",
    summary="The organisation tree, parents before children (optionally with member counts)",
    query=OrganizationQuery,
    response=OrganizationList,
    scope=READ,
    tags=ORGS,
)
federation = api.endpoint(
    "federation",
    "GET",
    "/federation",
    summary="The federation: the root of the organisation tree, by the name letters and emails use",
    response=Federation,
    scope=READ,
    tags=ORGS,
)
get_organization = api.endpoint(
    "get_organization",
    "GET",
    "/organizations/{organization_id}",
    summary="One organisation",
    response=Organization,
    scope=READ,
    errors=(404,),
    tags=ORGS,
)
update_organization = api.endpoint(
    "update_organization",
    "PATCH",
    "/organizations/{organization_id}",
    summary="Change an organisation (name, contacts, status) or move it (parent_id)",
    body=OrganizationPatch,
    response=Organization,
    scope=WRITE,
    errors=(403, 404, 409),
    tags=ORGS,
)
dissolve_organization = api.endpoint(
    "dissolve_organization",
    "DELETE",
    "/organizations/{organization_id}",
    summary="Dissolve an organisation that has no sub-organisations or members left",
    response=Organization,
    scope=WRITE,
    errors=(404, 409),
    tags=ORGS,
)
organization_subtree = api.endpoint(
    "organization_subtree",
    "GET",
    "/organizations/{organization_id}/subtree",
    summary="An organisation and everything below it, parents before children",
    response=OrganizationList,
    scope=READ,
    errors=(404,),
    tags=ORGS,
)
unpaid_dues = api.endpoint(
    "unpaid_dues",
    "GET",
    "/organizations/{organization_id}/unpaid-dues",
    summary="Active members of an association (and its sub-organisations) whose dues for the current term are unpaid",
    query=UnpaidQuery,
    response=MemberPage,
    scope=READ,
    errors=(404,),
    tags=ORGS,
)

# --- endpoints: members --------------------------------------------------------------------

create_member = api.endpoint(
    "create_member",
    "POST",
    "/members",
    summary="Enter a member (active at once) and welcome them",
    body=MemberIn,
    response=Member,
    status=201,
    scope=WRITE,
    errors=(403, 409),
)
apply = api.endpoint(
    "apply",
    "POST",
    "/members/applications",
    summary="Apply for membership (staff review it)",
    body=MemberIn,
    response=Member,
    status=201,
    scope=WRITE,
    errors=(403, 409),
)
list_members = api.endpoint(
    "list_members",
    "GET",
    "/members",
    summary="Search members (case and diacritics ignored), in Vietnamese name order",
    description="Sorted by given name, then middle names, then surname, in the Vietnamese alphabet. "
    "Pages are stable: pass `next_after` back as `after`.",
    query=MemberQuery,
    response=MemberPage,
    scope=READ,
    errors=(404,),
)
likely_duplicates = api.endpoint(
    "likely_duplicates",
    "GET",
    "/members/duplicates",
    summary="Likely duplicates: same name (diacritics ignored) and birth date",
    response=DuplicateGroups,
    scope=READ,
)
member_counts = api.endpoint(
    "member_counts",
    "GET",
    "/members/counts",
    summary="How many members are in each status (erased ones included)",
    response=StatusCounts,
    scope=READ,
    admin_only=True,
)
export_members = api.endpoint(
    "export_members",
    "GET",
    "/members/export",
    summary="Export members (an organisation's, or a search) as CSV or XLSX",
    description="Same headers as the import (Vietnamese by default), so an export can be edited and imported "
    "again. Cells that a spreadsheet would run as a formula are neutralised.",
    query=ExportQuery,
    scope=READ,
    errors=(404,),
    response_media=TABLE_MEDIA,
)
import_members = api.endpoint(
    "import_members",
    "POST",
    "/members/imports",
    summary="Import members from CSV or XLSX (a job you can follow)",
    description="UTF-8 with or without BOM, comma or semicolon separated, or XLSX; Vietnamese headers "
    "(Họ và tên, Ngày sinh, Giới tính, Email, Điện thoại, Học hàm học vị, Chuyên ngành, "
    "Mã đơn vị) or English ones; dates dd/mm/yyyy. Valid rows go in, each bad row is "
    "reported with its line, column and reason; importing the same file again creates "
    "nothing new. Rows may only create or update members within your reach. Answers 202 with "
    "the job at once, or with `wait=true` once it is done.",
    query=ImportQuery,
    request_media=SPREADSHEET_MEDIA,
    response=ImportReport,
    status=202,
    scope=WRITE,
    errors=(413, 415),
)
recent_imports = api.endpoint(
    "recent_imports",
    "GET",
    "/members/imports",
    summary="The latest member imports, newest first (managers: their own)",
    query=RecentQuery,
    response=ImportList,
    scope=WRITE,
)
import_report = api.endpoint(
    "import_report",
    "GET",
    "/members/imports/{job_id}",
    summary="An import's progress and report",
    query=ReportQuery,
    response=ImportReport,
    scope=WRITE,
    errors=(404,),
)
REJECTED: dict[str, Any] = {
    "summary": "An import's rejected rows as written, each with its line and reason, to fix and upload again",
    "description": "The file's own columns between `Dòng` (line) and `Lý do` (reason); cells a spreadsheet "
    "would run as a formula are neutralised. Only the import's own author (or an admin) may read it.",
    "query": RejectedQuery,
    "scope": WRITE,
    "errors": (404,),
    "response_media": TABLE_MEDIA,
}
rejected_rows = api.endpoint("rejected_rows", "GET", "/members/imports/{job_id}/rejected", **REJECTED)
# The same, where the staff console's brief looks for it.
rejected_rows_alias = api.endpoint("rejected_rows_alias", "GET", "/membership/imports/{job_id}/rejected", **REJECTED)
get_member = api.endpoint(
    "get_member", "GET", "/members/{member_id}", summary="One member", response=Member, scope=READ, errors=(404,)
)
update_member = api.endpoint(
    "update_member",
    "PATCH",
    "/members/{member_id}",
    summary="Change a member's profile, contacts or consents",
    body=MemberPatch,
    response=Member,
    scope=WRITE,
    errors=(403, 404, 409),
)
member_history = api.endpoint(
    "member_history",
    "GET",
    "/members/{member_id}/history",
    summary="Every change to a member: who, when, what",
    response=History,
    scope=READ,
    errors=(404,),
)


def _transition(action: str, path: str, summary: str):
    return api.endpoint(
        f"{action}_member",
        "POST",
        path,
        summary=summary,
        body=TransitionIn,
        response=Member,
        scope=WRITE,
        errors=(404, 409),
    )


# Paths written out, so a search for one finds its declaration.
approve_member = _transition(
    "approve", "/members/{member_id}/approve", "Approve an application: the member becomes active with a first term"
)
reject_member = _transition("reject", "/members/{member_id}/reject", "Reject an application")
suspend_member = _transition("suspend", "/members/{member_id}/suspend", "Suspend an active member")
reinstate_member = _transition("reinstate", "/members/{member_id}/reinstate", "Reinstate a suspended member")
resign_member = _transition("resign", "/members/{member_id}/resign", "Record that a member resigned")
TRANSITIONS = {
    "approve": approve_member,
    "reject": reject_member,
    "suspend": suspend_member,
    "reinstate": reinstate_member,
    "resign": resign_member,
}
renew_member = api.endpoint(
    "renew_member",
    "POST",
    "/members/{member_id}/renew",
    summary="Renew a membership, optionally recording the dues paid",
    body=RenewIn,
    response=Member,
    scope=WRITE,
    errors=(404, 409),
)
personal_data = api.endpoint(
    "personal_data",
    "GET",
    "/members/{member_id}/personal-data",
    summary="Everything held about a member (right of access), as JSON",
    response=PersonalData,
    admin_only=True,
    errors=(404,),
)
erase_member = api.endpoint(
    "erase_member",
    "DELETE",
    "/members/{member_id}/personal-data",
    summary="Erase a member's personal data (anonymise; counts are kept; other services are told)",
    response=Member,
    admin_only=True,
    errors=(404, 409),
)
list_parked = api.endpoint("list_parked", "GET", "/membership/parked-messages", **parking.LIST)
replay_parked = api.endpoint("replay_parked", "POST", "/membership/parked-messages/{consumer}/replay", **parking.REPLAY)
