"""Member imports: upload a CSV or XLSX file, watch its progress, read the report of
rejected rows (line, column, reason) and download those rows, with their own columns,
as a file to fix and upload again."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField

from clients.api import ApiProblem, Upload
from clients.console.app import api, lang_of, redirect, render, url
from clients.console.i18n import translate
from clients.console.views import relay

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/imports", imports_page, name="imports")
    router.add_post("/imports", upload, name="import_upload")
    router.add_get("/imports/{job_id}", job_page, name="import_job")
    router.add_get("/imports/{job_id}/rejected", rejected_rows, name="import_rejected")


def no_file(request: web.Request) -> ApiProblem:
    lang = lang_of(request)
    return ApiProblem(422, translate(lang, "import.no_file_title"), translate(lang, "import.no_file_detail"))


async def upload_from(request: web.Request) -> Upload | None:
    data = await request.post()
    part = data.get("file")
    if not isinstance(part, FileField) or not part.filename:
        return None
    media = part.content_type or "application/octet-stream"
    if part.filename.lower().endswith(".xlsx"):
        media = XLSX
    return part.filename, part.file, media


def _count_lines(upload: Upload) -> int | None:
    """Rows in a CSV file (its header aside), so the progress bar knows where it ends; None for XLSX."""
    name, content, _ = upload
    if name.lower().endswith(".xlsx") or isinstance(content, bytes):
        return None
    lines = 0
    for chunk in iter(lambda: content.read(1 << 16), b""):
        lines += chunk.count(b"\n")
    content.seek(0)
    return max(0, lines - 1)


async def imports_page(request: web.Request, problem: ApiProblem | None = None) -> web.StreamResponse:
    jobs = await api(request).imports(limit=20)
    return render(request, "imports/index.html", status=problem.status if problem else 200, jobs=jobs, problem=problem)


async def upload(request: web.Request) -> web.StreamResponse:
    file = await upload_from(request)
    if file is None:
        return await imports_page(request, no_file(request))
    expected = _count_lines(file)
    try:
        job = await api(request).import_members(file)
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return await imports_page(request, problem)
    return redirect(request, url(request, "import_job", {"rows": expected}, job_id=job.id))


async def job_page(request: web.Request) -> web.StreamResponse:
    after = request.query.get("after_line")
    job = await api(request).import_job(
        request.match_info["job_id"], limit=200, after_line=int(after) if after and after.isdigit() else None
    )
    expected = request.query.get("rows", "")
    total = int(expected) if expected.isdigit() and int(expected) > 0 else None
    template = "imports/progress.html" if request.query.get("partial") else "imports/job.html"
    return render(request, template, job=job, total=total, expected=expected or None)


async def rejected_rows(request: web.Request) -> web.StreamResponse:
    """The rejected rows with their own columns, line and reason (as the API writes them,
    formulas neutralised), to fix in Excel and upload again."""
    fmt = "csv" if request.query.get("format") == "csv" else "xlsx"
    async with api(request).rejected_rows(request.match_info["job_id"], fmt) as download:
        return await relay(request, download)
