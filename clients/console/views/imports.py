"""Member imports: upload a CSV or XLSX file, watch its progress, read the report of
rejected rows (line, column, reason) and download it as a file."""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from clients.api import ApiProblem, RowRejection, Upload
from clients.console.app import api, lang_of, redirect, render, url
from clients.console.i18n import translate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/imports", imports_page, name="imports")
    router.add_post("/imports", upload, name="import_upload")
    router.add_get("/imports/{job_id}", job_page, name="import_job")
    router.add_get("/imports/{job_id}/rejected.csv", rejected_csv, name="import_rejected")


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


async def rejected_csv(request: web.Request) -> web.StreamResponse:
    client = api(request)
    job_id = request.match_info["job_id"]
    rows: list[RowRejection] = []
    after: int | None = None
    while True:
        job = await client.import_job(job_id, limit=5000, after_line=after)
        rows.extend(job.errors)
        if job.errors_next_after_line is None:
            break
        after = job.errors_next_after_line
    lang = lang_of(request)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([translate(lang, key) for key in ("import.line", "import.column", "import.reason")])
    for row in rows:
        writer.writerow([row.line, _cell(row.column), _cell(row.reason)])
    name = f"{job.filename or 'import'}".rsplit(".", 1)[0] + "-rejected.csv"
    return web.Response(
        body=buffer.getvalue().encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_ascii(name)}"'},
    )


def _cell(value: Any) -> str:
    # A cell that starts like a formula is written as text, so Excel never runs it.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
