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
from clients.console.views import nothing, safely
from clients.console.views.notifications import parked_overview


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", home, name="home")


async def home(request: web.Request) -> web.StreamResponse:
    if session_of(request).role == "judge":  # a contest judge's day is their scoring sheets
        return redirect(request, url(request, "judging"))
    client = api(request)
    admin = session_of(request).admin
    events, applied, imports, failed, parked = await asyncio.gather(
        safely(client.events(upcoming=True, limit=200)),
        safely(client.members(status="applied", limit=200)),
        safely(client.imports(limit=20)),
        safely(client.deliveries(status="failed", limit=500)) if admin else nothing(),
        safely(parked_overview(client)) if admin else nothing(),
    )
    panels: dict[str, Any] = {
        **_event_panels(events),
        "applied": None if isinstance(applied, ApiProblem) else (len(applied.items), bool(applied.next_after)),
        "imports": None if isinstance(imports, ApiProblem) else [j for j in imports if not j.finished],
        "failing": None if not admin or isinstance(failed, ApiProblem) else len(failed),
        **_parked_panels(parked if admin else None),
    }
    return render(request, "home.html", panels=panels)


def _event_panels(events: Any) -> dict[str, Any]:
    """Today's events (under way or still to come today) and the rest of this week's."""
    if isinstance(events, ApiProblem):
        return {"events": None}
    today = today_local()
    week_end = today + timedelta(days=6 - today.weekday())
    now = datetime.now(UTC)
    happening = [e for e in events.items if e.status != "cancelled"]
    return {
        "events": True,
        "today": [e for e in happening if _local_day(e.starts_at) <= today and e.ends_at >= now],
        "week": [e for e in happening if today < _local_day(e.starts_at) <= week_end],
    }


def _parked_panels(parked: Any) -> dict[str, Any]:
    """Messages parked in every service (administrators only; None: not shown)."""
    if parked is None or isinstance(parked, ApiProblem):
        return {"dead_deliveries": None, "parked": None, "parked_missing": []}
    return {"dead_deliveries": len(parked.dead_deliveries), "parked": parked.total, "parked_missing": parked.missing}


def _local_day(moment: datetime) -> Any:
    when = local(moment)
    assert when is not None
    return when.date()
