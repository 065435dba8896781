"""Sign in and out, change one's own password, choose the language."""

from __future__ import annotations

from aiohttp import web

from clients.api import ApiProblem
from clients.console.app import api, console_of, lang_of, public, redirect, render, url
from clients.console.i18n import language_of, translate
from clients.console.session import LANG_COOKIE, Session, set_plain
from clients.console.views import Form, failed


def routes(router: web.UrlDispatcher) -> None:
    router.add_get("/login", login_page, name="login")
    router.add_post("/login", login, name="login_post")
    router.add_post("/logout", logout, name="logout")
    router.add_get("/password", password_page, name="password")
    router.add_post("/password", change_password, name="password_post")
    router.add_post("/lang", choose_language, name="lang")
    router.add_get("", to_home, name="root")


@public
async def to_home(request: web.Request) -> web.StreamResponse:
    return redirect(request, url(request, "home"))


def _next(request: web.Request, value: str | None) -> str:
    # Only a path of the console itself: never an open redirect.
    if value and value.startswith("/console/") and not value.startswith("//"):
        return value
    return url(request, "home")


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    return render(request, "login.html", form=Form({"username": ""}), next=_next(request, request.query.get("next")))


@public
async def login(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    username = str(data.get("username", "")).strip().lower()
    password = str(data.get("password", ""))
    target = _next(request, str(data.get("next", "")))
    try:
        result = await api(request, token="").login(username, password)
    except ApiProblem as problem:
        form = Form({"username": username, "password": ""}, {}, problem)
        if problem.status == 401:
            problem = ApiProblem(
                401, translate(lang_of(request), "login.wrong_title"), translate(lang_of(request), "login.wrong_detail")
            )
        elif problem.status == 423:
            problem = ApiProblem(
                423,
                translate(lang_of(request), "login.locked_title"),
                translate(lang_of(request), "login.locked_detail"),
            )
        elif problem.status == 429:
            problem = ApiProblem(
                429, translate(lang_of(request), "login.slow_title"), translate(lang_of(request), "login.slow_detail")
            )
        else:
            form = failed(problem, {"username": username, "password": ""})
        form.problem = problem
        return render(
            request, "login.html", status=problem.status if problem.status < 500 else 503, form=form, next=target
        )
    session = Session(
        result.access_token,
        result.expires_at.timestamp(),
        result.expires_in,
        result.user.username,
        result.user.role,
        result.user.organization_id,
    )
    response = redirect(request, target)
    console_of(request).cookies.write_session(request, response, session)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    try:
        await api(request).logout()
    except ApiProblem:
        pass  # already ended: signing out of the console still goes on
    response = redirect(request, url(request, "login"), "signed_out")
    console_of(request).cookies.clear_session(response)
    return response


async def password_page(request: web.Request) -> web.StreamResponse:
    return render(request, "password.html", form=Form({"current_password": "", "new_password": ""}))


async def change_password(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    values = {"current_password": "", "new_password": "", "repeat_password": ""}
    if str(data.get("new_password", "")) != str(data.get("repeat_password", "")):
        lang = lang_of(request)
        form = Form(values, {"repeat_password": [translate(lang, "password.mismatch")]})
        return render(request, "password.html", status=422, form=form)
    try:
        await api(request).change_password(str(data.get("current_password", "")), str(data.get("new_password", "")))
    except ApiProblem as problem:
        return render(request, "password.html", status=problem.status, form=failed(problem, values))
    # Every login of this account ended with the change: sign in again with the new password.
    response = redirect(request, url(request, "login", {"next": None}), "password_changed")
    console_of(request).cookies.clear_session(response)
    return response


@public
async def choose_language(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    lang = language_of(str(data.get("lang", "")))
    response = redirect(request, _next(request, str(data.get("next", ""))))
    set_plain(request, response, LANG_COOKIE, lang, max_age=365 * 86400)
    return response
