"""Home: the day's work at a glance, each item a link to the work.

Each panel asks the API on its own and shows "not available" when that part of the
API refuses or is missing, so one slow or absent service never blanks the page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from clients.api import ApiProblem
from clients.console.app import api, redirect, render, session_of, url
from clients.console.formatting import local, today_local
from clients.console.views.notifications import parked_overview


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", home, name="home")


async def _safe(work: Any) -> Any:
    try:
        return await work
    except ApiProblem as problem:
        return problem


async def home(request: web.Request) -> web.StreamResponse:
    if session_of(request).role == "judge":  # a contest judge's day is their scoring sheets
        return redirect(request, url(request, "judging"))
    client = api(request)
    admin = session_of(request).admin
    events, applied, imports, failed, parked = await asyncio.gather(
        _safe(client.events(upcoming=True, limit=200)),
        _safe(client.members(status="applied", limit=200)),
        _safe(client.imports(limit=20)),
        _safe(client.deliveries(status="failed", limit=500)) if admin else _none(),
        _safe(parked_overview(client)) if admin else _none(),
    )
    today = today_local()
    week_end = today + timedelta(days=6 - today.weekday())
    now = datetime.now(UTC)
    panels: dict[str, Any] = {}
    if isinstance(events, ApiProblem):
        panels["events"] = None
    else:
        happening = [e for e in events.items if e.status != "cancelled"]
        panels["today"] = [e for e in happening if _local_day(e.starts_at) <= today and e.ends_at >= now]
        panels["week"] = [e for e in happening if today < _local_day(e.starts_at) <= week_end]
        panels["events"] = True
    panels["applied"] = None if isinstance(applied, ApiProblem) else (len(applied.items), bool(applied.next_after))
    panels["imports"] = None if isinstance(imports, ApiProblem) else [j for j in imports if not j.finished]
    panels["failing"] = None if not admin or isinstance(failed, ApiProblem) else len(failed)
    if admin and not isinstance(parked, ApiProblem) and parked is not None:
        panels["dead_deliveries"] = len(parked.dead_deliveries)
        panels["parked"] = parked.total
        panels["parked_missing"] = parked.missing
    else:
        panels["dead_deliveries"] = panels["parked"] = None
        panels["parked_missing"] = []
    return render(request, "home.html", panels=panels)


def _local_day(moment: datetime) -> Any:
    when = local(moment)
    assert when is not None
    return when.date()


async def _none() -> None:
    return None
