"""Membership HTTP handlers: parse, call one use case, answer.

Who sees what is decided by the use cases through the platform's reach rule
(reach.py): admins everything; managers and bound partner keys their organisation's
subtree; partner keys by scope. Personal-data export and erasure are admin-only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from services.membership import endpoints as ep
from services.membership.admitting import Admissions
from services.membership.endpoints import (
    ExportQuery,
    ImportQuery,
    LangQuery,
    MemberIn,
    MemberPatch,
    MemberQuery,
    OrganizationIn,
    OrganizationPatch,
    OrganizationQuery,
    RecentQuery,
    RejectedQuery,
    RenewIn,
    ReportQuery,
    TransitionIn,
    UnpaidQuery,
)
from services.membership.erasing import Erasure
from services.membership.expiring import Expiry
from services.membership.exporting import Exports
from services.membership.finding import Finding
from services.membership.importing import MemberImports, import_organizations
from services.membership.organizations import Organizations
from services.membership.profiles import Profiles
from services.membership.standing import Standing
from services.membership.uploads import spool
from shared import parking
from shared.contracts import DuesPayment
from shared.http import current_identity, json_response, language, request_id, table_response
from shared.settings import Settings


@dataclass
class UseCases:
    organizations: Organizations
    admissions: Admissions
    profiles: Profiles
    standing: Standing
    finding: Finding
    exports: Exports
    imports: MemberImports
    erasure: Erasure
    expiry: Expiry


USE_CASES = web.AppKey("membership_use_cases", UseCases)
SETTINGS = web.AppKey("membership_settings", Settings)


def _uc(request: web.Request) -> UseCases:
    return request.app[USE_CASES]


def _member_id(request: web.Request) -> str:
    return request.match_info["member_id"]


def _org_id(request: web.Request) -> str:
    return request.match_info["organization_id"]


def _max_upload(request: web.Request) -> int:
    return request.app[SETTINGS].membership_import_max_bytes


# --- organisations ---------------------------------------------------------------------


@ep.import_organizations.handles
async def import_organizations_file(request: web.Request, query: LangQuery) -> web.Response:
    path, _, _ = await spool(request, _max_upload(request))
    lang = query.lang or language(request)
    who, correlation_id = current_identity(request), request_id(request)
    report = await import_organizations(path, _uc(request).organizations, who, correlation_id=correlation_id, lang=lang)
    return json_response(report)


@ep.create_organization.handles
async def create_organization(request: web.Request, body: OrganizationIn) -> web.Response:
    created = await _uc(request).organizations.create(current_identity(request), body, request_id(request))
    return json_response(created, status=201, headers={"Location": f"/api/v1/organizations/{created['id']}"})


@ep.list_organizations.handles
async def list_organizations(request: web.Request, query: OrganizationQuery) -> web.Response:
    return json_response(await _uc(request).organizations.listing(current_identity(request), query))


@ep.federation.handles
async def federation(request: web.Request) -> web.Response:
    return json_response(await _uc(request).organizations.federation())


@ep.get_organization.handles
async def get_organization(request: web.Request) -> web.Response:
    return json_response(await _uc(request).organizations.show(_org_id(request)))


@ep.update_organization.handles
async def update_organization(request: web.Request, body: OrganizationPatch) -> web.Response:
    who = current_identity(request)
    return json_response(await _uc(request).organizations.update(who, _org_id(request), body, request_id(request)))


@ep.dissolve_organization.handles
async def dissolve_organization(request: web.Request) -> web.Response:
    who = current_identity(request)
    return json_response(await _uc(request).organizations.dissolve(who, _org_id(request), request_id(request)))


@ep.organization_subtree.handles
async def organization_subtree(request: web.Request) -> web.Response:
    return json_response(await _uc(request).organizations.subtree(_org_id(request)))


@ep.unpaid_dues.handles
async def unpaid_dues(request: web.Request, query: UnpaidQuery) -> web.Response:
    return json_response(await _uc(request).finding.unpaid(current_identity(request), _org_id(request), query))


# --- members: collection ---------------------------------------------------------------


@ep.create_member.handles
async def create_member(request: web.Request, body: MemberIn) -> web.Response:
    created = await _uc(request).admissions.enter(current_identity(request), body, request_id(request))
    return json_response(created, status=201, headers={"Location": f"/api/v1/members/{created['id']}"})


@ep.apply.handles
async def apply(request: web.Request, body: MemberIn) -> web.Response:
    created = await _uc(request).admissions.enter(current_identity(request), body, request_id(request), apply=True)
    return json_response(created, status=201, headers={"Location": f"/api/v1/members/{created['id']}"})


@ep.list_members.handles
async def list_members(request: web.Request, query: MemberQuery) -> web.Response:
    return json_response(await _uc(request).finding.search(current_identity(request), query))


@ep.likely_duplicates.handles
async def likely_duplicates(request: web.Request) -> web.Response:
    return json_response(await _uc(request).finding.duplicates(current_identity(request)))


@ep.member_counts.handles
async def member_counts(request: web.Request) -> web.Response:
    return json_response(await _uc(request).finding.counts())


@ep.export_members.handles
async def export_members(request: web.Request, query: ExportQuery) -> web.StreamResponse:
    table = await _uc(request).exports.members(current_identity(request), query, query.lang or language(request))
    return await table_response(
        request, filename=table.filename, fmt=query.format, sheet=table.sheet, header=table.header, rows=table.rows
    )


@ep.import_members.handles
async def import_members(request: web.Request, query: ImportQuery) -> web.Response:
    imports, who = _uc(request).imports, current_identity(request)
    path, size, filename = await spool(request, _max_upload(request))
    job, task = await imports.begin(who, path, filename=filename, size=size, correlation_id=request_id(request))
    if query.wait:
        await asyncio.shield(task)
    lang = query.lang or language(request)
    report = await imports.report(who, job["_id"], lang=lang, limit=500, after_line=None)
    # 202 either way: the import is a job, and the answer is its state (done, with wait=true).
    return json_response(report, status=202, headers={"Location": f"/api/v1/members/imports/{job['_id']}"})


@ep.recent_imports.handles
async def recent_imports(request: web.Request, query: RecentQuery) -> web.Response:
    return json_response(await _uc(request).imports.recent(current_identity(request), query.limit))


@ep.import_report.handles
async def import_report(request: web.Request, query: ReportQuery) -> web.Response:
    who, job_id, lang = current_identity(request), request.match_info["job_id"], query.lang or language(request)
    report = await _uc(request).imports.report(who, job_id, lang=lang, limit=query.limit, after_line=query.after_line)
    return json_response(report)


@ep.rejected_rows_alias.handles
@ep.rejected_rows.handles
async def rejected_rows(request: web.Request, query: RejectedQuery) -> web.StreamResponse:
    who, job_id = current_identity(request), request.match_info["job_id"]
    table = await _uc(request).exports.rejected(who, job_id, query.lang or language(request))
    return await table_response(
        request, filename=table.filename, fmt=query.format, sheet=table.sheet, header=table.header, rows=table.rows
    )


# --- members: one member ---------------------------------------------------------------


@ep.get_member.handles
async def get_member(request: web.Request) -> web.Response:
    return json_response(await _uc(request).profiles.show(current_identity(request), _member_id(request)))


@ep.update_member.handles
async def update_member(request: web.Request, body: MemberPatch) -> web.Response:
    who, member_id = current_identity(request), _member_id(request)
    return json_response(await _uc(request).profiles.change(who, member_id, body, request_id(request)))


@ep.member_history.handles
async def member_history(request: web.Request) -> web.Response:
    return json_response(await _uc(request).profiles.history(current_identity(request), _member_id(request)))


async def _decide(request: web.Request, body: TransitionIn, action: str) -> web.Response:
    who, member_id = current_identity(request), _member_id(request)
    decided = await _uc(request).admissions.decide(who, member_id, action, body.reason, request_id(request))
    return json_response(decided)


async def _move(request: web.Request, body: TransitionIn, action: str) -> web.Response:
    who, member_id = current_identity(request), _member_id(request)
    moved = await _uc(request).standing.transition(who, member_id, action, body.reason, request_id(request))
    return json_response(moved)


@ep.approve_member.handles
async def approve_member(request: web.Request, body: TransitionIn) -> web.Response:
    return await _decide(request, body, "approve")


@ep.reject_member.handles
async def reject_member(request: web.Request, body: TransitionIn) -> web.Response:
    return await _decide(request, body, "reject")


@ep.suspend_member.handles
async def suspend_member(request: web.Request, body: TransitionIn) -> web.Response:
    return await _move(request, body, "suspend")


@ep.reinstate_member.handles
async def reinstate_member(request: web.Request, body: TransitionIn) -> web.Response:
    return await _move(request, body, "reinstate")


@ep.resign_member.handles
async def resign_member(request: web.Request, body: TransitionIn) -> web.Response:
    return await _move(request, body, "resign")


@ep.renew_member.handles
async def renew_member(request: web.Request, body: RenewIn) -> web.Response:
    dues = DuesPayment(**body.dues.model_dump()) if body.dues else None
    renewed = await _uc(request).standing.renew(
        current_identity(request),
        _member_id(request),
        years=body.years,
        term_start=body.term_start,
        term_end=body.term_end,
        dues=dues,
        correlation_id=request_id(request),
    )
    return json_response(renewed)


@ep.personal_data.handles
async def personal_data(request: web.Request) -> web.Response:
    member_id = _member_id(request)
    data = await _uc(request).erasure.personal_data(current_identity(request), member_id)
    return json_response(data, headers={"Content-Disposition": f'attachment; filename="member-{member_id}.json"'})


@ep.erase_member.handles
async def erase_member(request: web.Request) -> web.Response:
    erased = await _uc(request).erasure.erase(current_identity(request), _member_id(request), request_id(request))
    return json_response(erased)


ep.list_parked.handles(parking.list_parked)
ep.replay_parked.handles(parking.replay_parked)
