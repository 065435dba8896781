"""Membership HTTP handlers: parse and validate, check who may see what, call the
store, shape the answer.

Who sees what: admins everything; managers only their organisation's subtree
(members who belong to at least one organisation in it); partner keys by scope
(`members:read`, `members:write`). Personal-data export and erasure are admin-only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import csv
import io
import os
import tempfile
from datetime import date, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from services.membership.imports import MemberImports, import_organizations
from services.membership.members import STATUSES, TITLES, Member, MemberIn, MemberPatch
from services.membership.messages import render
from services.membership.organizations import Organization, OrganizationIn, OrganizationPatch
from services.membership.store import (
    MemberFilter,
    MemberStore,
    OrganizationStore,
    OutsideYourOrganization,
    public_organization,
    status_counts,
)
from services.membership.tabular import EXPORT_HEADERS, UnreadableFile, export_row
from shared.api import Api
from shared.contracts import DuesPayment
from shared.http import NotFound, ProblemError, current_identity, json_response, request_id
from shared.settings import Settings

MEMBERS = web.AppKey("member_store", MemberStore)
ORGS = web.AppKey("organization_store", OrganizationStore)
IMPORTS = web.AppKey("member_imports", MemberImports)
SETTINGS = web.AppKey("membership_settings", Settings)
routes = Api("membership", tag="members")

SPREADSHEET_MEDIA = {
    "text/csv": {"type": "string", "description": "UTF-8 (with or without BOM), comma or semicolon separated"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"type": "string", "format": "binary"},
    "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
    # What Windows browsers send for a .csv file, and generic clients for any file.
    "application/vnd.ms-excel": {"type": "string", "format": "binary"},
    "application/octet-stream": {"type": "string", "format": "binary"},
}
Lang = Literal["vi", "en"]
# What browsers and Excel call a spreadsheet upload (the content decides CSV or XLSX).
UPLOAD_TYPES = frozenset(
    {
        "text/csv",
        "text/plain",
        "application/csv",
        "application/vnd.ms-excel",
        "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


# --- models ------------------------------------------------------------------------


class MemberQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str | None = Field(None, max_length=200, description="Name (case and diacritics ignored), email or phone")
    organization_id: str | None = Field(None, max_length=64)
    include_subtree: bool = Field(True, description="Also members of the organisation's sub-organisations")
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    expertise: str | None = Field(None, max_length=200)
    title: Literal[TITLES] | None = None  # type: ignore[valid-type]
    young_intellectual: bool | None = Field(None, description="35 or under today")
    limit: int = Field(50, ge=1, le=200, description="Members per page (at most 200)")
    after: str | None = Field(None, max_length=400, description="`next_after` of the previous page")


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "xlsx"] = "csv"
    lang: Lang = Field("vi", description="Language of the headers")
    q: str | None = Field(None, max_length=200)
    organization_id: str | None = Field(None, max_length=64)
    include_subtree: bool = True
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    expertise: str | None = Field(None, max_length=200)
    title: Literal[TITLES] | None = None  # type: ignore[valid-type]
    young_intellectual: bool | None = None


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


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str | None = Field(None, max_length=500, description="Why (kept in the member's history)")


class DuesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    amount_vnd: int = Field(ge=0, le=10_000_000_000, description="Amount paid, in VND")
    paid_on: date
    receipt_number: str | None = Field(None, max_length=64)


class RenewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    years: int = Field(1, ge=1, le=10)
    term_start: date | None = Field(None, description="Explicit start of the new term (a correction by staff)")
    term_end: date | None = Field(None, description="Explicit end of the new term (instead of `years`)")
    dues: DuesIn | None = None


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wait: bool = Field(False, description="Answer only when the import is finished (small files)")
    lang: Lang = Field("vi", description="Language of the reasons in the report")


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Lang = "vi"
    limit: int = Field(500, ge=1, le=5000, description="Rejected rows per page")
    after_line: int | None = Field(None, ge=0, description="`errors_next_after_line` of the previous page")


class RowRejection(BaseModel):
    line: int = Field(description="Line in the file, the header being line 1")
    column: str = Field(description="The column at fault, as headed in the file")
    code: str
    reason: str
    existing_member_id: str | None = None


class ImportReport(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed", "interrupted"]
    filename: str | None = None
    bytes: int
    rows: int = Field(description="Rows read so far")
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


class OrganizationImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowRejection]


class OrganizationList(BaseModel):
    items: list[Organization]


class OrganizationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["federation", "association", "centre", "branch", "enterprise"] | None = None
    status: Literal["active", "inactive", "dissolved"] | None = None


class LangQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lang: Lang = "vi"


class UnpaidQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(50, ge=1, le=200)
    after: str | None = Field(None, max_length=400)


class PersonalData(Member):
    history: list[HistoryEntry]
    dues_payments: list[dict[str, Any]]
    organizations: list[dict[str, str]]


# --- helpers -----------------------------------------------------------------------


async def scope(request: web.Request) -> set[str] | None:
    """The organisations the caller may see and change; None means all."""
    who = current_identity(request)
    if "admin" in who.roles:
        return None
    # Managers, and partner keys bound to an organisation, reach its subtree only.
    if "manager" in who.roles or who.organization_id:
        return await request.app[ORGS].scope(who.organization_id)
    return None


def _cursor(sort_key: str | None) -> str | None:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=") if sort_key else None


def _uncursor(after: str | None) -> str | None:
    if not after:
        return None
    try:
        return base64.urlsafe_b64decode(after + "=" * (-len(after) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ProblemError(
            422,
            "validation-error",
            "Invalid input",
            "1 field(s) are invalid",
            errors=[{"field": "after", "in": "query", "message": "not a cursor this API gave", "code": "cursor"}],
        ) from None


async def member_filter(request: web.Request, query: MemberQuery | ExportQuery) -> MemberFilter:
    allowed = await scope(request)
    orgs: set[str] | None = None
    if query.organization_id:
        orgs = (
            await request.app[ORGS].subtree(query.organization_id)
            if query.include_subtree
            else {(await request.app[ORGS].get(query.organization_id))["_id"]}
        )
        if allowed is not None and not orgs <= allowed:
            if query.organization_id not in allowed:
                raise OutsideYourOrganization("You manage neither this organisation nor its parents")
            orgs &= allowed
    elif allowed is not None:
        orgs = allowed
    return MemberFilter(
        q=query.q,
        organization_ids=frozenset(orgs) if orgs is not None else None,
        status=query.status,
        expertise=query.expertise,
        title=query.title,
        young=query.young_intellectual,
    )


def _who(request: web.Request) -> str:
    return current_identity(request).sub


async def spool_upload(request: web.Request, limit: int) -> tuple[str, int, str | None]:
    """The uploaded file (raw body or multipart `file`) in a temporary file, read a chunk at a time."""
    filename = None
    if request.content_type not in UPLOAD_TYPES and not request.content_type.startswith("multipart/"):
        raise ProblemError(
            415,
            "unsupported-media-type",
            "Send a CSV or XLSX file",
            f"Content-Type must be one of {', '.join(sorted(UPLOAD_TYPES))} or multipart/form-data",
        )
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and getattr(part, "name", None) != "file":
            part = await reader.next()
        if part is None:
            raise ProblemError(
                422,
                "validation-error",
                "Invalid input",
                "Send the file in a form field named file",
                errors=[{"field": "file", "in": "body", "message": "missing", "code": "missing"}],
            )
        filename = part.filename
        source = part
    else:
        source = None
    fd, path = tempfile.mkstemp(prefix="lienhiep-import-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = await (source.read_chunk(65536) if source is not None else request.content.read(65536))
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise ProblemError(
                        413,
                        "payload-too-large",
                        "File too large",
                        f"The file may be at most {limit} bytes",
                        max_bytes=limit,
                    )
                out.write(chunk)
        if size == 0:
            raise ProblemError(
                422,
                "validation-error",
                "Invalid input",
                "The file is empty",
                errors=[{"field": "file", "in": "body", "message": "empty", "code": "empty"}],
            )
    except BaseException:
        os.unlink(path)
        raise
    return path, size, filename


# --- organisations ---------------------------------------------------------------


@routes.route(
    "POST",
    "/organizations",
    summary="Add an organisation to the tree",
    body=OrganizationIn,
    response=Organization,
    status=201,
    scope="members:write",
    errors=(404, 409),
    tags=("organizations",),
)
async def create_organization(request: web.Request, body: OrganizationIn) -> web.Response:
    orgs = request.app[ORGS]
    doc = await orgs.create(body, by=_who(request), correlation_id=request_id(request), allowed=await scope(request))
    return json_response(
        public_organization(doc, await orgs.parent_map()),
        status=201,
        headers={"Location": f"/api/v1/organizations/{doc['_id']}"},
    )


@routes.route(
    "GET",
    "/organizations",
    summary="The organisation tree, parents before children",
    query=OrganizationQuery,
    response=OrganizationList,
    scope="members:read",
    tags=("organizations",),
)
async def list_organizations(request: web.Request, query: OrganizationQuery) -> web.Response:
    orgs = request.app[ORGS]
    docs = await orgs.all()
    parents = {d["_id"]: d.get("parent_id") for d in docs}
    items = [
        public_organization(d, parents)
        for d in _tree_order(docs)
        if (query.kind is None or d["kind"] == query.kind) and (query.status is None or d.get("status") == query.status)
    ]
    return json_response({"items": items})


def _tree_order(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    children: dict[str | None, list[dict[str, Any]]] = {}
    ids = {d["_id"] for d in docs}
    for d in docs:
        children.setdefault(d.get("parent_id") if d.get("parent_id") in ids else None, []).append(d)
    out: list[dict[str, Any]] = []

    def walk(parent: str | None) -> None:
        for d in sorted(children.get(parent, []), key=lambda d: d["code"]):
            out.append(d)
            walk(d["_id"])

    walk(None)
    return out


@routes.route(
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
    tags=("organizations",),
)
async def import_organizations_file(request: web.Request, query: LangQuery) -> web.Response:
    path, _, _ = await spool_upload(request, request.app[SETTINGS].membership_import_max_bytes)
    try:
        report = await import_organizations(
            path, request.app[ORGS], by=_who(request), correlation_id=request_id(request), lang=query.lang
        )
    except UnreadableFile as exc:
        raise ProblemError(
            422,
            "unreadable-file",
            "Unreadable file",
            render(exc.code, query.lang, value=exc.value),
            errors=[
                {"field": "file", "in": "body", "message": render(exc.code, "en", value=exc.value), "code": exc.code}
            ],
        ) from None
    finally:
        os.unlink(path)
    return json_response(report)


@routes.route(
    "GET",
    "/organizations/{organization_id}",
    summary="One organisation",
    response=Organization,
    scope="members:read",
    errors=(404,),
    tags=("organizations",),
)
async def get_organization(request: web.Request) -> web.Response:
    orgs = request.app[ORGS]
    return json_response(
        public_organization(await orgs.get(request.match_info["organization_id"]), await orgs.parent_map())
    )


@routes.route(
    "PATCH",
    "/organizations/{organization_id}",
    summary="Change an organisation (name, contacts, status) or move it (parent_id)",
    body=OrganizationPatch,
    response=Organization,
    scope="members:write",
    errors=(404, 409),
    tags=("organizations",),
)
async def update_organization(request: web.Request, body: OrganizationPatch) -> web.Response:
    orgs = request.app[ORGS]
    doc = await orgs.update(
        request.match_info["organization_id"],
        body,
        by=_who(request),
        correlation_id=request_id(request),
        allowed=await scope(request),
    )
    return json_response(public_organization(doc, await orgs.parent_map()))


@routes.route(
    "DELETE",
    "/organizations/{organization_id}",
    summary="Dissolve an organisation that has no sub-organisations or members left",
    response=Organization,
    scope="members:write",
    errors=(404, 409),
    tags=("organizations",),
)
async def dissolve_organization(request: web.Request) -> web.Response:
    orgs = request.app[ORGS]
    doc = await orgs.dissolve(
        request.match_info["organization_id"],
        by=_who(request),
        correlation_id=request_id(request),
        allowed=await scope(request),
    )
    return json_response(public_organization(doc, await orgs.parent_map()))


@routes.route(
    "GET",
    "/organizations/{organization_id}/subtree",
    summary="An organisation and everything below it, parents before children",
    response=OrganizationList,
    scope="members:read",
    errors=(404,),
    tags=("organizations",),
)
async def organization_subtree(request: web.Request) -> web.Response:
    orgs = request.app[ORGS]
    root = request.match_info["organization_id"]
    ids = await orgs.subtree(root)
    docs = [d for d in await orgs.all() if d["_id"] in ids]
    parents = await orgs.parent_map()
    # The root's parent lies outside the subtree, so the walk starts at the root.
    return json_response({"items": [public_organization(d, parents) for d in _tree_order(docs)]})


@routes.route(
    "GET",
    "/organizations/{organization_id}/unpaid-dues",
    summary="Active members of an association (and its sub-organisations) whose dues for the current term are unpaid",
    query=UnpaidQuery,
    response=MemberPage,
    scope="members:read",
    errors=(404,),
    tags=("organizations",),
)
async def unpaid_dues(request: web.Request, query: UnpaidQuery) -> web.Response:
    org_id = request.match_info["organization_id"]
    base = await member_filter(request, MemberQuery(organization_id=org_id, status="active"))
    f = MemberFilter(organization_ids=base.organization_ids, status="active", dues_state="unpaid")
    items, next_key = await request.app[MEMBERS].search(f, limit=query.limit, after=_uncursor(query.after))
    return json_response({"items": items, "next_after": _cursor(next_key)})


# --- members: collection ---------------------------------------------------------


@routes.route(
    "POST",
    "/members",
    summary="Enter a member (active at once) and welcome them",
    body=MemberIn,
    response=Member,
    status=201,
    scope="members:write",
    errors=(403, 409),
)
async def create_member(request: web.Request, body: MemberIn) -> web.Response:
    created = await request.app[MEMBERS].create(
        body, status="active", by=_who(request), correlation_id=request_id(request), allowed=await scope(request)
    )
    return json_response(created, status=201, headers={"Location": f"/api/v1/members/{created['id']}"})


@routes.route(
    "POST",
    "/members/applications",
    summary="Apply for membership (staff review it)",
    body=MemberIn,
    response=Member,
    status=201,
    scope="members:write",
    errors=(403, 409),
)
async def apply(request: web.Request, body: MemberIn) -> web.Response:
    created = await request.app[MEMBERS].create(
        body, status="applied", by=_who(request), correlation_id=request_id(request), allowed=await scope(request)
    )
    return json_response(created, status=201, headers={"Location": f"/api/v1/members/{created['id']}"})


@routes.route(
    "GET",
    "/members",
    summary="Search members (case and diacritics ignored), in Vietnamese name order",
    description="Sorted by given name, then middle names, then surname, in the Vietnamese alphabet. "
    "Pages are stable: pass `next_after` back as `after`.",
    query=MemberQuery,
    response=MemberPage,
    scope="members:read",
    errors=(403, 404),
)
async def list_members(request: web.Request, query: MemberQuery) -> web.Response:
    f = await member_filter(request, query)
    items, next_key = await request.app[MEMBERS].search(f, limit=query.limit, after=_uncursor(query.after))
    return json_response({"items": items, "next_after": _cursor(next_key)})


@routes.route(
    "GET",
    "/members/duplicates",
    summary="Likely duplicates: same name (diacritics ignored) and birth date",
    response=DuplicateGroups,
    scope="members:read",
)
async def likely_duplicates(request: web.Request) -> web.Response:
    groups = await request.app[MEMBERS].likely_duplicates(await scope(request))
    return json_response({"groups": groups})


@routes.route(
    "GET",
    "/members/counts",
    summary="How many members are in each status (erased ones included)",
    response=StatusCounts,
    scope="members:read",
    admin_only=True,
)
async def member_counts(request: web.Request) -> web.Response:
    return json_response({"counts": await status_counts(request.app[MEMBERS].members, STATUSES)})


@routes.route(
    "GET",
    "/members/export",
    summary="Export members (an organisation's, or a search) as CSV or XLSX",
    description="Same headers as the import (Vietnamese by default), so an export can be edited and imported again.",
    query=ExportQuery,
    scope="members:read",
    errors=(403, 404),
    response_media={
        "text/csv": {"type": "string"},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"type": "string", "format": "binary"},
    },
)
async def export_members(request: web.Request, query: ExportQuery) -> web.StreamResponse:
    f = await member_filter(request, query)
    codes = {v: k for k, v in (await request.app[ORGS].codes()).items()}
    store = request.app[MEMBERS]
    headers = [text for _, text in EXPORT_HEADERS[query.lang]]
    stamp = date.today().isoformat()
    response = web.StreamResponse(
        headers={"Content-Disposition": f'attachment; filename="members-{stamp}.{query.format}"'}
    )
    if query.format == "csv":
        response.content_type = "text/csv"
        response.charset = "utf-8"
        await response.prepare(request)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(headers)
        number = 0
        async for member in store.iterate(f):
            number += 1
            writer.writerow(export_row(number, member, codes, query.lang))
            if number % 500 == 0:
                await response.write(buffer.getvalue().encode())
                buffer.seek(0)
                buffer.truncate()
        await response.write(buffer.getvalue().encode())
        await response.write_eof()
        return response
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Hội viên" if query.lang == "vi" else "Members")
    sheet.append(headers)
    number = 0
    async for member in store.iterate(f):
        number += 1
        sheet.append(export_row(number, member, codes, query.lang))
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        await asyncio.to_thread(workbook.save, path)
        response.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response.content_length = os.path.getsize(path)
        await response.prepare(request)
        with open(path, "rb") as stream:
            while chunk := stream.read(65536):
                await response.write(chunk)
    finally:
        os.unlink(path)
    await response.write_eof()
    return response


@routes.route(
    "POST",
    "/members/imports",
    summary="Import members from CSV or XLSX (a job you can follow)",
    description="UTF-8 with or without BOM, comma or semicolon separated, or XLSX; Vietnamese headers "
    "(Họ và tên, Ngày sinh, Giới tính, Email, Điện thoại, Học hàm học vị, Chuyên ngành, "
    "Mã đơn vị) or English ones; dates dd/mm/yyyy. Valid rows go in, each bad row is "
    "reported with its line, column and reason; importing the same file again creates "
    "nothing new. Answers 202 with the job at once, or with `wait=true` once it is done.",
    query=ImportQuery,
    request_media=SPREADSHEET_MEDIA,
    response=ImportReport,
    status=202,
    scope="members:write",
    errors=(413, 415),
)
async def import_members(request: web.Request, query: ImportQuery) -> web.Response:
    imports = request.app[IMPORTS]
    path, size, filename = await spool_upload(request, request.app[SETTINGS].membership_import_max_bytes)
    job = await imports.create_job(filename=filename, size=size, by=_who(request))
    task = imports.start(
        job["_id"], path, by=_who(request), allowed=await scope(request), correlation_id=request_id(request)
    )
    if query.wait:
        await asyncio.shield(task)
    report = await imports.report(job["_id"], lang=query.lang, limit=500, after_line=None)
    # 202 either way: the import is a job, and the answer is its state (done, with wait=true).
    return json_response(report, status=202, headers={"Location": f"/api/v1/members/imports/{job['_id']}"})


class ImportSummary(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed", "interrupted"]
    filename: str | None = None
    bytes: int
    rows: int
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


@routes.route(
    "GET",
    "/members/imports",
    summary="The latest member imports, newest first (managers: their own)",
    query=RecentQuery,
    response=ImportList,
    scope="members:write",
)
async def recent_imports(request: web.Request, query: RecentQuery) -> web.Response:
    who = current_identity(request)
    items = await request.app[IMPORTS].recent(created_by=None if "admin" in who.roles else who.sub, limit=query.limit)
    return json_response({"items": items})


@routes.route(
    "GET",
    "/members/imports/{job_id}",
    summary="An import's progress and report",
    query=ReportQuery,
    response=ImportReport,
    scope="members:write",
    errors=(404,),
)
async def import_report(request: web.Request, query: ReportQuery) -> web.Response:
    report = await request.app[IMPORTS].report(
        request.match_info["job_id"], lang=query.lang, limit=query.limit, after_line=query.after_line
    )
    who = current_identity(request)
    if report is None or ("admin" not in who.roles and report.get("created_by") != who.sub):
        raise NotFound(f"No import with id {request.match_info['job_id']}")
    return json_response(report)


# --- members: one member ----------------------------------------------------------


@routes.route(
    "GET", "/members/{member_id}", summary="One member", response=Member, scope="members:read", errors=(403, 404)
)
async def get_member(request: web.Request) -> web.Response:
    return json_response(await request.app[MEMBERS].get(request.match_info["member_id"], await scope(request)))


@routes.route(
    "PATCH",
    "/members/{member_id}",
    summary="Change a member's profile, contacts or consents",
    body=MemberPatch,
    response=Member,
    scope="members:write",
    errors=(403, 404, 409),
)
async def update_member(request: web.Request, body: MemberPatch) -> web.Response:
    return json_response(
        await request.app[MEMBERS].update(
            request.match_info["member_id"],
            body,
            by=_who(request),
            correlation_id=request_id(request),
            allowed=await scope(request),
        )
    )


@routes.route(
    "GET",
    "/members/{member_id}/history",
    summary="Every change to a member: who, when, what",
    response=History,
    scope="members:read",
    errors=(403, 404),
)
async def member_history(request: web.Request) -> web.Response:
    items = await request.app[MEMBERS].history(request.match_info["member_id"], await scope(request))
    return json_response({"items": items})


def _transition(action: str, summary: str) -> None:
    async def handler(request: web.Request, body: TransitionIn) -> web.Response:
        return json_response(
            await request.app[MEMBERS].transition(
                request.match_info["member_id"],
                action,
                by=_who(request),
                correlation_id=request_id(request),
                reason=body.reason,
                allowed=await scope(request),
            )
        )

    handler.__name__ = f"{action}_member"
    routes.route(
        "POST",
        f"/members/{{member_id}}/{action}",
        summary=summary,
        body=TransitionIn,
        response=Member,
        scope="members:write",
        errors=(403, 404, 409),
    )(handler)


_transition("approve", "Approve an application: the member becomes active with a first term")
_transition("reject", "Reject an application")
_transition("suspend", "Suspend an active member")
_transition("reinstate", "Reinstate a suspended member")
_transition("resign", "Record that a member resigned")


@routes.route(
    "POST",
    "/members/{member_id}/renew",
    summary="Renew a membership, optionally recording the dues paid",
    body=RenewIn,
    response=Member,
    scope="members:write",
    errors=(403, 404, 409),
)
async def renew_member(request: web.Request, body: RenewIn) -> web.Response:
    dues = DuesPayment(**body.dues.model_dump()) if body.dues else None
    return json_response(
        await request.app[MEMBERS].renew(
            request.match_info["member_id"],
            years=body.years,
            term_start=body.term_start,
            term_end=body.term_end,
            dues=dues,
            by=_who(request),
            correlation_id=request_id(request),
            allowed=await scope(request),
        )
    )


@routes.route(
    "GET",
    "/members/{member_id}/personal-data",
    summary="Everything held about a member (right of access), as JSON",
    response=PersonalData,
    admin_only=True,
    errors=(404,),
)
async def personal_data(request: web.Request) -> web.Response:
    member_id = request.match_info["member_id"]
    data = await request.app[MEMBERS].personal_data(member_id)
    return json_response(data, headers={"Content-Disposition": f'attachment; filename="member-{member_id}.json"'})


@routes.route(
    "DELETE",
    "/members/{member_id}/personal-data",
    summary="Erase a member's personal data (anonymise; counts are kept; other services are told)",
    response=Member,
    admin_only=True,
    errors=(404, 409),
)
async def erase_member(request: web.Request) -> web.Response:
    return json_response(
        await request.app[MEMBERS].erase(
            request.match_info["member_id"], by=_who(request), correlation_id=request_id(request)
        )
    )
