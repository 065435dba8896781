"""The staff console: server-rendered pages (Jinja2) over the public API, served by the
gateway under /console/ as an aiohttp sub-application.

Every page is a thin client of `/api/v1/...` through `clients.api.ApiClient`, called
over HTTP on the gateway's own address: the console holds no rule and reads no
database, so it can do nothing a partner system could not do with the same calls.
The staff token stays in an httpOnly cookie (see session.py); every POST carries a
CSRF token; the Content-Security-Policy allows no inline script or style.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import jinja2
from aiohttp import web

from clients.api import ApiClient, ApiProblem
from clients.console import formatting, i18n
from clients.console.session import CSRF_COOKIE, FLASH_COOKIE, LANG_COOKIE, NEW_CSRF_SEED, Cookies, Session, set_plain
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)
HERE = Path(__file__).parent
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "media-src 'self' blob: mediastream:; manifest-src 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass
class Console:
    settings: Settings
    api_url: str
    cookies: Cookies
    templates: jinja2.Environment
    http: aiohttp.ClientSession | None = None
    public: set[Handler] = field(default_factory=set)


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("console_session", Session)
REFRESHED = web.RequestKey("console_refreshed", Session)
LANG = web.RequestKey("console_lang", str)


def api_url(settings: Settings) -> str:
    """Where the console calls the API: CONSOLE_API_URL, else the gateway's own listener."""
    if settings.console_api_url:
        return settings.console_api_url.rstrip("/")
    host = settings.gateway_host if settings.gateway_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"http://{host}:{settings.gateway_port}"


def create_console(settings: Settings) -> web.Application:
    """The console as an aiohttp application, to mount at /console (the gateway does)."""
    from clients.console import views

    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters.update(
        day=formatting.day, moment=formatting.moment, clock=formatting.clock, input_moment=formatting.input_moment
    )
    console = Console(settings, api_url(settings), Cookies(settings.derived_secret("console-session")), templates)
    app = web.Application(middlewares=[guard])
    app[CONSOLE] = console
    views.setup(app, console)
    app.router.add_static("/static/", HERE / "static", name="static", append_version=True)

    async def http_client(app: web.Application) -> AsyncIterator[None]:
        # One pool for every signed-in person; no cookie jar, so nobody's cookie travels with another's call.
        console.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.DummyCookieJar(), connector=aiohttp.TCPConnector(limit=64)
        )
        yield
        await console.http.close()

    app.cleanup_ctx.append(http_client)
    return app


def public(handler: Handler) -> Handler:
    """A page anyone may open (sign-in, language)."""
    handler.console_public = True  # type: ignore[attr-defined]
    return handler


def console_of(request: web.Request) -> Console:
    return request.config_dict[CONSOLE]


def lang_of(request: web.Request) -> str:
    return request.get(LANG) or i18n.language_of(request.cookies.get(LANG_COOKIE))


def session_of(request: web.Request) -> Session:
    return request[SESSION]


def forwarded_for(request: web.Request) -> str:
    """The caller's address for the gateway's rate limits, as a proxy would pass it on."""
    earlier = request.headers.get("X-Forwarded-For", "").strip()
    remote = request.remote or "unknown"
    return f"{earlier}, {remote}" if earlier else remote


def api(request: web.Request, token: str | None = None) -> ApiClient:
    console = console_of(request)
    session = request.get(SESSION)
    return ApiClient(
        console.api_url,
        token if token is not None else (session.token if session else None),
        language=lang_of(request),
        session=console.http,
        request_id=request.headers.get("X-Request-ID"),
        forwarded_for=forwarded_for(request),
        timeout=console.settings.gateway_upstream_timeout_seconds + 5,
        upload_timeout=console.settings.gateway_import_timeout_seconds + 5,
    )


def url(request: web.Request, name: str, query: dict[str, Any] | None = None, **parts: str) -> str:
    target = str(request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()}))
    if query:
        clean = {k: v for k, v in query.items() if v not in (None, "", False)}
        if clean:
            target += "?" + urlencode(clean, doseq=True)
    return target


# --- rendering --------------------------------------------------------------------------


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    console = console_of(request)
    lang = lang_of(request)
    seed = console.cookies.csrf_seed(request)
    session = request.get(SESSION)

    def t(key: str, **params: Any) -> str:
        return i18n.translate(lang, key, **params)

    def t_or(key: str, fallback: Any) -> str:
        return i18n.translate_or(lang, key, str(fallback))

    def link(name: str, query: dict[str, Any] | None = None, **parts: str) -> str:
        return url(request, name, query, **parts)

    flash = request.cookies.get(FLASH_COOKIE)
    html = console.templates.get_template(template).render(
        t=t,
        t_or=t_or,
        lang=lang,
        user=session,
        csrf=console.cookies.csrf_token(seed),
        link=link,
        path=request.path_qs,
        number=lambda v: formatting.number(v, lang),
        points=lambda v: formatting.points(v, lang),
        static=_static(request),
        flash=t_or(f"flash.{flash}", "") if flash else "",
        title_of=lambda d: _title(d, lang),
        section=section_of(request.match_info.route.name or ""),
        org_choices=org_choices,
        **context,
    )
    response = web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
    if flash:
        response.del_cookie(FLASH_COOKIE, path="/console")
    return response


SECTIONS = (
    ("organization", "organizations"),
    ("member", "members"),
    ("import", "imports"),
    ("event", "events"),
    ("registration", "events"),
    ("checkin", "checkin"),
    ("contest", "contests"),
    ("judging", "judging"),
    ("campaign", "campaigns"),
    ("deliver", "deliveries"),
    ("template", "templates"),
    ("suppression", "suppressions"),
    ("parked", "parked"),
    ("staff", "staff"),
    ("key", "keys"),
    ("traffic", "traffic"),
    ("home", "home"),
)


def section_of(route_name: str) -> str:
    """The menu entry a page belongs to (marked as the current one)."""
    return next((section for prefix, section in SECTIONS if route_name.startswith(prefix)), "")


def org_choices(orgs: list[Any]) -> list[tuple[str, str]]:
    """Organisations as options of a select, indented by their depth in the tree."""
    return [(o.id, "— " * o.depth + o.name) for o in orgs]


def _title(text: dict[str, Any] | None, lang: str) -> str:
    if not text:
        return ""
    return str(text.get(lang) or text.get("vi") or "")


def _static(request: web.Request) -> Callable[[str], str]:
    resource = request.app.router["static"] if "static" in request.app.router else None

    def static(name: str) -> str:
        if resource is None:
            return f"/console/static/{name}"
        return str(resource.url_for(filename=name))

    return static


def redirect(request: web.Request, target: str, flash: str | None = None) -> web.Response:
    """303 See Other: after a form, the browser asks for the page with GET."""
    response = web.Response(status=303, headers={"Location": target})
    if flash:
        set_plain(request, response, FLASH_COOKIE, flash, max_age=60)
    return response


def problem_page(request: web.Request, problem: ApiProblem) -> web.Response:
    status = problem.status if 400 <= problem.status < 600 else 502
    return render(request, "problem.html", status=status, problem=problem)


# --- the guard every request passes -----------------------------------------------------


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every console request: its language, a page for unknown paths, the session (signed
    in, refreshed when due), the CSRF token of forms, and API problems as pages."""
    request[LANG] = i18n.language_of(request.cookies.get(LANG_COOKIE))
    route = request.match_info.route
    if route.resource is None or request.match_info.http_exception is not None:
        return _problem_page(request, 404, "error.not_found")
    if route.name == "static":
        response = await handler(request)
        response.headers["Cache-Control"] = "public, max-age=86400" if "v" in request.query else "no-cache"
        return response
    is_public = getattr(route.handler, "console_public", False)
    if not is_public and (to_login := await _signed_in(request)) is not None:
        return to_login
    if request.method == "POST" and not await _csrf_ok(request):
        return _problem_page(request, 403, "error.csrf_title", "error.csrf_detail")
    try:
        response = await handler(request)
    except ApiProblem as problem:
        if problem.status == 401 and not is_public:
            return _secured(request, _to_login(request, "session_ended"))
        response = problem_page(request, problem)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return _problem_page(request, exc.status, "error.not_found" if exc.status == 404 else "error.generic")
        response = web.Response(status=exc.status, headers=exc.headers)
    return _secured(request, response)


async def _signed_in(request: web.Request) -> web.StreamResponse | None:
    """Keep the session on the request (refreshed when due); a redirect to the login page
    when there is none or it has ended."""
    session = console_of(request).cookies.read_session(request)
    if session is None or session.expires_at <= time.time():
        return _to_login(request, "session_ended" if session is not None else None)
    if session.needs_refresh(time.time()):
        session = await _refreshed(request, session)
    request[SESSION] = session
    return None


def _to_login(request: web.Request, notice: str | None) -> web.StreamResponse:
    target = url(request, "login", {"next": request.path_qs if request.method == "GET" else None})
    response = redirect(request, target, notice)
    console_of(request).cookies.clear_session(response)
    return response


async def _csrf_ok(request: web.Request) -> bool:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = str((await request.post()).get("csrf", ""))
    return console_of(request).cookies.csrf_ok(request, sent)


def _problem_page(request: web.Request, status: int, title: str, detail: str | None = None) -> web.StreamResponse:
    lang = lang_of(request)
    problem = ApiProblem(status, i18n.translate(lang, title), i18n.translate(lang, detail) if detail else "")
    return _secured(request, render(request, "problem.html", status=status, problem=problem))


async def _refreshed(request: web.Request, session: Session) -> Session:
    try:
        fresh = await api(request, token=session.token).refresh()
    except ApiProblem:
        return session  # still valid for now (another tab may have refreshed it): carry on with it
    renewed = Session(
        fresh.access_token,
        fresh.expires_at.timestamp(),
        session.ttl,
        fresh.user.username,
        fresh.user.role,
        fresh.user.organization_id,
    )
    request[REFRESHED] = renewed
    return renewed


def _secured(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    console = console_of(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Cache-Control"] = "no-store"
    renewed = request.get(REFRESHED)
    if renewed is not None:
        console.cookies.write_session(request, response, renewed)
    seed = request.get(NEW_CSRF_SEED)
    if seed and not request.cookies.get(CSRF_COOKIE):
        set_plain(request, response, CSRF_COOKIE, seed)
    return response


def quoted(value: str) -> str:
    return quote(value, safe="")
