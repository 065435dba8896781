"""The console's screens, one module each; `setup` lists every page's route."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from clients.api import ApiProblem, Download


@dataclass
class Form:
    """What was typed, and what the API said about it: messages per field, title + detail above."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    problem: ApiProblem | None = None

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def error(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    @property
    def unplaced(self) -> list[tuple[str, str]]:
        """Field messages no input on the page shows (listed under the problem's title)."""
        return [(f, m) for f, ms in self.errors.items() for m in ms if f not in self.values and f != "_"]


def failed(problem: ApiProblem, values: dict[str, Any], aliases: dict[str, str] | None = None) -> Form:
    """The form again with the API's problem: each field path mapped to the input that holds it."""
    errors: dict[str, list[str]] = {}
    for path, messages in problem.by_field().items():
        name = (aliases or {}).get(path, path)
        if name not in values:
            # `sessions.0.starts_at` shows at `sessions.0.starts_at`, `dues.amount_vnd` at `amount_vnd`…
            tail = path.rsplit(".", 1)[-1]
            name = tail if tail in values else name
        errors.setdefault(name, []).extend(messages)
    return Form(values, errors, problem)


def fields(form: MultiDictProxy[Any], *names: str) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in names}


async def relay(request: web.Request, download: Download) -> web.StreamResponse:
    """Pass a file the API streams (an export) on to the browser, a chunk at a time."""
    response = web.StreamResponse(
        headers={
            "Content-Type": download.content_type,
            "Content-Disposition": f'attachment; filename="{download.filename}"',
        }
    )
    await response.prepare(request)
    async for chunk in download.chunks():
        await response.write(chunk)
    await response.write_eof()
    return response


async def safely(work: Awaitable[Any]) -> Any:
    """What a page shows beside its main content: the answer, or the API's problem (shown
    as "not available" in its place). An ended session still goes to the login page."""
    try:
        return await work
    except ApiProblem as problem:
        if problem.status == 401:
            raise
        return problem


async def nothing() -> None:
    """Stands in for a panel the signed-in role does not see."""
    return None


def setup(app: web.Application, console: Any) -> None:
    from clients.console.views import (
        admin,
        auth,
        checkin,
        contests,
        events,
        home,
        imports,
        members,
        notifications,
        organizations,
    )

    for module in (auth, home, organizations, members, imports, events, checkin, notifications, contests, admin):
        module.routes(app.router)
