"""Contests: editions and their entries, screening (sơ khảo), the judge's scoring sheet
(laptop or phone), and the board's ranking with disagreement and overrides.

Like every screen, a thin client of the public API: who may see and do what is the
contests service's rule (a judge reaches only their entries, others' scores appear
once their own sheet is in, nobody but the board sees a score before publication)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from clients.api import ApiProblem
from clients.console.app import api, lang_of, redirect, render, session_of, url
from clients.console.i18n import translate
from clients.console.views import Form, failed, relay

STATUSES = ("submitted", "screened_in", "screened_out", "scored", "awarded", "not_awarded", "forwarded")
TIERS = ("first", "second", "third", "honourable", "none")
EXPORTS = ("score-sheets", "entry-scores", "ranking", "forwarded")


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/contests", editions, name="contests")
    router.add_get("/contests/entries/{entry_id}", entry_page, name="contest_entry")
    router.add_post("/contests/entries/{entry_id}/screening", screen, name="contest_screen")
    router.add_post("/contests/entries/{entry_id}/override", override, name="contest_override")
    router.add_get("/contests/{edition_id}", edition_page, name="contest")
    router.add_get("/contests/{edition_id}/ranking", ranking_page, name="contest_ranking")
    router.add_post("/contests/{edition_id}/publish", publish, name="contest_publish")
    router.add_get(
        "/contests/{edition_id}/export/{what:score-sheets|entry-scores|ranking|forwarded}",
        export,
        name="contest_export",
    )
    router.add_get("/judging", judging, name="judging")
    router.add_get("/judging/{entry_id}", sheet_page, name="judging_sheet")
    router.add_post("/judging/{entry_id}", save_sheet, name="judging_save")


# --- editions and entries ----------------------------------------------------------------------


async def editions(request: web.Request) -> web.StreamResponse:
    if session_of(request).role == "judge":
        return redirect(request, url(request, "judging"))
    return render(request, "contests/list.html", editions=await api(request).contest_editions())


async def edition_page(request: web.Request) -> web.StreamResponse:
    client = api(request)
    edition_id = request.match_info["edition_id"]
    status = request.query.get("status", "")
    edition, page = await asyncio.gather(
        client.contest_edition(edition_id),
        client.contest_entries(
            edition_id, status=status if status in STATUSES else None, after=request.query.get("after")
        ),
    )
    next_link = url(request, "contest", {"status": status, "after": page.next_after}, edition_id=edition_id)
    return render(
        request,
        "contests/edition.html",
        edition=edition,
        page=page,
        statuses=STATUSES,
        chosen_status=status,
        next_link=next_link if page.next_after else None,
        exports=EXPORTS,
    )


async def entry_page(request: web.Request, status: int = 200, form: Form | None = None) -> web.Response:
    client = api(request)
    entry = await client.contest_entry(request.match_info["entry_id"])
    edition = await client.contest_edition(entry.edition_id)
    return render(
        request,
        "contests/entry.html",
        status=status,
        entry=entry,
        edition=edition,
        form=form or Form({"decision": "in", "reason": ""}),
    )


async def screen(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    entry_id = request.match_info["entry_id"]
    values = {"decision": str(data.get("decision", "")), "reason": str(data.get("reason", "")).strip()}
    try:
        await api(request).screen_entry(entry_id, values["decision"], values["reason"] or None)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await entry_page(request, problem.status, failed(problem, values))
    return redirect(request, url(request, "contest_entry", entry_id=entry_id), "saved")


# --- the board's ranking ---------------------------------------------------------------------------


async def ranking_page(
    request: web.Request,
    status: int = 200,
    problem: ApiProblem | None = None,
    notice: str | None = None,
    edition_id: str | None = None,
) -> web.Response:
    client = api(request)
    edition_id = edition_id or request.match_info["edition_id"]
    sort = "disagreement" if request.query.get("sort") == "disagreement" else "rank"
    edition, ranking = await asyncio.gather(
        client.contest_edition(edition_id), client.contest_ranking(edition_id, sort)
    )
    return render(
        request,
        "contests/ranking.html",
        status=status,
        edition=edition,
        ranking=ranking,
        sort=sort,
        tiers=TIERS,
        problem=problem,
        notice=notice,
    )


async def override(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    entry_id = request.match_info["entry_id"]
    edition_id = str(data.get("edition_id", ""))
    client = api(request)
    try:
        if "clear" in data:
            await client.clear_override(entry_id)
        else:
            await client.set_override(entry_id, str(data.get("tier", "")), str(data.get("reason", "")).strip())
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await ranking_page(request, problem.status, problem, edition_id=edition_id)
    return redirect(request, url(request, "contest_ranking", edition_id=edition_id) + f"#e-{entry_id}", "saved")


async def publish(request: web.Request) -> web.StreamResponse:
    edition_id = request.match_info["edition_id"]
    try:
        result = await api(request).publish_results(edition_id)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        return await ranking_page(request, problem.status, problem)
    notice = translate(lang_of(request), "contest.published", awarded=result.get("awarded", 0))
    return await ranking_page(request, notice=notice)


async def export(request: web.Request) -> web.StreamResponse:
    fmt = "csv" if request.query.get("format") == "csv" else "xlsx"
    what = request.match_info["what"]
    async with api(request).export_contest(request.match_info["edition_id"], what, fmt) as download:  # type: ignore[arg-type]
        return await relay(request, download)


# --- the judge's sheet -----------------------------------------------------------------------------


async def judging(request: web.Request) -> web.StreamResponse:
    return render(request, "contests/judging.html", assigned=await api(request).judging_entries())


async def sheet_page(request: web.Request, status: int = 200, form: Form | None = None) -> web.Response:
    view = await api(request).judging_sheet(request.match_info["entry_id"])
    return render(
        request,
        "contests/sheet.html",
        status=status,
        view=view,
        form=form or Form(_sheet_values(view.sheet, view.criteria)),
    )


def _sheet_values(sheet: dict[str, Any], criteria: list[dict[str, Any]]) -> dict[str, Any]:
    scores = sheet.get("scores") or {}
    values: dict[str, Any] = {f"scores.{c['code']}": _shown(scores.get(c["code"])) for c in criteria}
    values["comment"] = sheet.get("comment") or ""
    return values


def _shown(points: Any) -> str:
    return "" if points is None else f"{points:g}"


async def save_sheet(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    entry_id = request.match_info["entry_id"]
    client = api(request)
    view = await client.judging_sheet(entry_id)
    values: dict[str, Any] = {
        f"scores.{c['code']}": str(data.get(f"scores.{c['code']}", "")).strip() for c in view.criteria
    }
    values["comment"] = str(data.get("comment", "")).strip()
    errors: dict[str, list[str]] = {}
    scores: dict[str, float] = {}
    for name, text in values.items():
        if not name.startswith("scores.") or not text:
            continue
        try:
            scores[name.removeprefix("scores.")] = float(text.replace(",", "."))
        except ValueError:
            errors[name] = [translate(lang_of(request), "form.bad_number")]
    submit = data.get("action") == "submit"
    try:
        if errors:
            raise ApiProblem(422, translate(lang_of(request), "form.invalid_title"), "")
        await client.score_entry(entry_id, scores, values["comment"], submit)
    except ApiProblem as problem:
        if problem.status in (401, 404):
            raise
        form = failed(problem, values)
        form.errors.update(errors)
        return render(request, "contests/sheet.html", status=problem.status, view=view, form=form)
    return redirect(request, url(request, "judging_sheet", entry_id=entry_id), "sheet_submitted" if submit else "saved")
