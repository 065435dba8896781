"""Check-in at the door: a phone page where a ticket code is typed or scanned, and the
answer is big: ✓ and the name, or why not."""

from __future__ import annotations

from aiohttp import web

from clients.api import ApiProblem
from clients.console.app import api, render


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/checkin", page, name="checkin")
    router.add_post("/checkin", check_in, name="checkin_post")


async def page(request: web.Request) -> web.StreamResponse:
    return render(request, "checkin.html", result=None, problem=None, code="")


async def check_in(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    code = str(data.get("ticket_code", "")).strip()
    result, problem = None, None
    try:
        result = await api(request).check_in(code)
    except ApiProblem as refused:
        if refused.status == 401:
            raise
        problem = refused
    template = "checkin_answer.html" if request.headers.get("X-Partial") else "checkin.html"
    # 200 either way: a refused ticket is an answer for the door, not a broken page.
    return render(request, template, result=result, problem=problem, code=code)
