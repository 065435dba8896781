"""Contests HTTP handlers: parse, call one use case, answer. Declarations and models
live in endpoints.py; who may call what is checked by shared/api.py from them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from aiohttp import web

from services.contests import endpoints as ep
from services.contests.certificates import Certificates
from services.contests.documents import DocumentDesk
from services.contests.editions import EditionDesk
from services.contests.entering import EntryDesk
from services.contests.exports import Exports, Table
from services.contests.followups import FollowUps
from services.contests.judging import Judging
from services.contests.panels import Panels
from services.contests.publishing import Publishing
from services.contests.ranking import Ranking
from services.contests.screening import Screening
from shared import parking
from shared.http import current_identity, json_response, language, request_id, table_response, upload

EDITIONS = web.AppKey("editions", EditionDesk)
ENTRIES = web.AppKey("entries", EntryDesk)
DOCUMENTS = web.AppKey("documents", DocumentDesk)
SCREENING = web.AppKey("screening", Screening)
PANELS = web.AppKey("panels", Panels)
JUDGING = web.AppKey("judging", Judging)
RANKING = web.AppKey("ranking", Ranking)
PUBLISHING = web.AppKey("publishing", Publishing)
CERTIFICATES = web.AppKey("certificates", Certificates)
EXPORTS = web.AppKey("exports", Exports)
FOLLOWUPS = web.AppKey("followups", FollowUps)

ep.list_parked.handles(parking.list_parked)
ep.replay_parked.handles(parking.replay_parked)


def _path(request: web.Request, name: str) -> str:
    return request.match_info[name]


# --- editions ---------------------------------------------------------------------------


@ep.list_editions.handles
async def list_editions(request: web.Request) -> web.Response:
    return json_response(await request.app[EDITIONS].listing())


@ep.create_edition.handles
async def create_edition(request: web.Request, body: ep.EditionIn) -> web.Response:
    created = await request.app[EDITIONS].create(body)
    return json_response(created, status=201, headers={"Location": f"/api/v1/contests/editions/{created['id']}"})


@ep.get_edition.handles
async def get_edition(request: web.Request) -> web.Response:
    return json_response(await request.app[EDITIONS].get(_path(request, "edition_id")))


@ep.update_edition.handles
async def update_edition(request: web.Request, body: ep.EditionRules) -> web.Response:
    return json_response(await request.app[EDITIONS].update(_path(request, "edition_id"), body))


# --- entries ----------------------------------------------------------------------------


@ep.submit_entry.handles
async def submit_entry(request: web.Request, body: ep.EntryIn) -> web.Response:
    entry = await request.app[ENTRIES].submit(
        _path(request, "edition_id"), body, current_identity(request), request_id(request)
    )
    return json_response(entry, status=201, headers={"Location": f"/api/v1/contests/entries/{entry['id']}"})


@ep.list_entries.handles
async def list_entries(request: web.Request, query: ep.EntryQuery) -> web.Response:
    return json_response(
        await request.app[ENTRIES].page(_path(request, "edition_id"), query, current_identity(request))
    )


@ep.get_entry.handles
async def get_entry(request: web.Request) -> web.Response:
    return json_response(await request.app[ENTRIES].get(_path(request, "entry_id"), current_identity(request)))


@ep.update_entry.handles
async def update_entry(request: web.Request, body: ep.EntryPatch) -> web.Response:
    return json_response(await request.app[ENTRIES].update(_path(request, "entry_id"), body, current_identity(request)))


@ep.attach_document.handles
async def attach_document(request: web.Request, query: ep.DocumentQuery) -> web.Response:
    chunks, name = await upload(request)
    entry = await request.app[DOCUMENTS].attach(
        _path(request, "entry_id"), current_identity(request), chunks, query.name or name
    )
    return json_response(entry, status=201)


@ep.get_document.handles
async def get_document(request: web.Request) -> web.StreamResponse:
    stream, record = await request.app[DOCUMENTS].open(
        _path(request, "entry_id"), _path(request, "document_id"), current_identity(request)
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": record["media_type"],
            "Content-Disposition": f"attachment; filename=\"document\"; filename*=UTF-8''{quote(record['name'])}",
        }
    )
    response.content_length = record["size"]
    await response.prepare(request)
    while chunk := await stream.readchunk():
        await response.write(chunk)
    await response.write_eof()
    return response


@ep.remove_document.handles
async def remove_document(request: web.Request) -> web.Response:
    return json_response(
        await request.app[DOCUMENTS].remove(
            _path(request, "entry_id"), _path(request, "document_id"), current_identity(request)
        )
    )


@ep.screen_entry.handles
async def screen_entry(request: web.Request, body: ep.ScreeningIn) -> web.Response:
    return json_response(
        await request.app[SCREENING].screen(
            _path(request, "entry_id"), body, current_identity(request), request_id(request)
        )
    )


# --- panels and judging -----------------------------------------------------------------


@ep.put_judge.handles
async def put_judge(request: web.Request, body: ep.JudgeIn) -> web.Response:
    return json_response(await request.app[PANELS].seat(_path(request, "edition_id"), _path(request, "username"), body))


@ep.list_judges.handles
async def list_judges(request: web.Request) -> web.Response:
    return json_response(await request.app[PANELS].listing(_path(request, "edition_id")))


@ep.withdraw_judge.handles
async def withdraw_judge(request: web.Request, body: ep.WithdrawIn) -> web.Response:
    return json_response(
        await request.app[PANELS].withdraw(_path(request, "edition_id"), _path(request, "username"), body.reason)
    )


@ep.record_conflict.handles
async def record_conflict(request: web.Request, body: ep.ConflictIn) -> web.Response:
    judge = await request.app[PANELS].record(
        _path(request, "edition_id"), _path(request, "username"), body, current_identity(request)
    )
    return json_response(judge, status=201)


@ep.assign_entries.handles
async def assign_entries(request: web.Request, body: ep.AssignIn) -> web.Response:
    return json_response(await request.app[PANELS].assign_all(_path(request, "edition_id"), body.judges_per_entry))


@ep.assign_entry.handles
async def assign_entry(request: web.Request, body: ep.AssignOneIn) -> web.Response:
    return json_response(
        await request.app[PANELS].assign_one(_path(request, "entry_id"), body.judge, current_identity(request))
    )


@ep.declare_conflict.handles
async def declare_conflict(request: web.Request, body: ep.OwnConflictIn) -> web.Response:
    return json_response(await request.app[PANELS].declare(body, current_identity(request)), status=201)


@ep.my_conflicts.handles
async def my_conflicts(request: web.Request, query: ep.JudgingQuery) -> web.Response:
    return json_response(await request.app[PANELS].own_conflicts(current_identity(request), query.edition_id))


@ep.my_entries.handles
async def my_entries(request: web.Request, query: ep.JudgingQuery) -> web.Response:
    return json_response(await request.app[JUDGING].assigned(current_identity(request), query.edition_id))


@ep.my_sheet.handles
async def my_sheet(request: web.Request) -> web.Response:
    return json_response(await request.app[JUDGING].view(_path(request, "entry_id"), current_identity(request)))


@ep.score_entry.handles
async def score_entry(request: web.Request, body: ep.SheetIn) -> web.Response:
    return json_response(
        await request.app[JUDGING].score(
            _path(request, "entry_id"), current_identity(request), body, request_id(request)
        )
    )


@ep.reopen_sheet.handles
async def reopen_sheet(request: web.Request, body: ep.ReopenIn) -> web.Response:
    return json_response(
        await request.app[JUDGING].reopen(
            _path(request, "entry_id"), _path(request, "username"), body.reason, current_identity(request)
        )
    )


# --- the board's decision ------------------------------------------------------------------


@ep.get_ranking.handles
async def get_ranking(request: web.Request, query: ep.RankingQuery) -> web.Response:
    return json_response(await request.app[RANKING].view(_path(request, "edition_id"), query, language(request)))


@ep.set_override.handles
async def set_override(request: web.Request, body: ep.OverrideIn) -> web.Response:
    return json_response(
        await request.app[RANKING].override(_path(request, "entry_id"), body, current_identity(request))
    )


@ep.clear_override.handles
async def clear_override(request: web.Request) -> web.Response:
    return json_response(await request.app[RANKING].clear(_path(request, "entry_id"), current_identity(request)))


@ep.record_votes.handles
async def record_votes(request: web.Request, body: ep.VotesIn) -> web.Response:
    return json_response(await request.app[RANKING].record_votes(_path(request, "edition_id"), body))


@ep.publish_results.handles
async def publish_results(request: web.Request) -> web.Response:
    return json_response(
        await request.app[PUBLISHING].publish(
            _path(request, "edition_id"), current_identity(request), request_id(request)
        )
    )


@ep.get_results.handles
async def get_results(request: web.Request) -> web.Response:
    return json_response(await request.app[PUBLISHING].results(_path(request, "edition_id")))


@ep.award_decision.handles
async def award_decision(request: web.Request) -> web.Response:
    pdf = await request.app[PUBLISHING].decision(_path(request, "edition_id"), language(request))
    return _pdf(pdf, "quyet-dinh-trao-giai.pdf")


@ep.issue_certificates.handles
async def issue_certificates(request: web.Request) -> web.Response:
    return json_response(
        await request.app[CERTIFICATES].issue_certificates(_path(request, "edition_id"), request_id(request))
    )


@ep.verify_certificate.handles
async def verify_certificate(request: web.Request) -> web.Response:
    return json_response(await request.app[CERTIFICATES].verify(_path(request, "code")))


@ep.certificate_pdf.handles
async def certificate_pdf(request: web.Request) -> web.Response:
    code = _path(request, "code")
    return _pdf(await request.app[CERTIFICATES].certificate(code, language(request)), "giay-chung-nhan.pdf")


@ep.forward_entry.handles
async def forward_entry(request: web.Request, body: ep.ForwardIn) -> web.Response:
    return json_response(
        await request.app[PUBLISHING].forward(
            _path(request, "entry_id"), body.note, current_identity(request), request_id(request)
        )
    )


def _pdf(content: bytes, filename: str) -> web.Response:
    return web.Response(
        body=content,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


# --- exports and follow-ups ------------------------------------------------------------------


async def _table(request: web.Request, table: Table, fmt: str) -> web.StreamResponse:
    async def rows() -> AsyncIterator[list[object]]:
        for row in table.rows:
            yield row

    return await table_response(
        request, filename=table.filename, fmt=fmt, sheet=table.sheet, header=table.header, rows=rows()
    )


@ep.export_score_sheets.handles
async def export_score_sheets(request: web.Request, query: ep.ExportQuery) -> web.StreamResponse:
    table = await request.app[EXPORTS].score_sheets(_path(request, "edition_id"), query.judge, language(request))
    return await _table(request, table, query.format)


@ep.export_entry_scores.handles
async def export_entry_scores(request: web.Request, query: ep.ExportQuery) -> web.StreamResponse:
    table = await request.app[EXPORTS].entry_scores(_path(request, "edition_id"), language(request))
    return await _table(request, table, query.format)


@ep.export_ranking.handles
async def export_ranking(request: web.Request, query: ep.ExportQuery) -> web.StreamResponse:
    table = await request.app[EXPORTS].ranking_table(_path(request, "edition_id"), language(request))
    return await _table(request, table, query.format)


@ep.export_forwarded.handles
async def export_forwarded(request: web.Request, query: ep.ExportQuery) -> web.StreamResponse:
    table = await request.app[EXPORTS].forwarded(_path(request, "edition_id"), language(request))
    return await _table(request, table, query.format)


@ep.put_followup.handles
async def put_followup(request: web.Request, body: ep.FollowUpIn) -> web.Response:
    return json_response(await request.app[FOLLOWUPS].put(_path(request, "entry_id"), body, current_identity(request)))


@ep.list_followups.handles
async def list_followups(request: web.Request, query: ep.FollowUpQuery) -> web.Response:
    return json_response(await request.app[FOLLOWUPS].listing(query))
