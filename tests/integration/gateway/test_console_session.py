"""The console's sign-in through the real gateway (in process, calling its own API over
HTTP, in front of the real membership service): a day's work outlives a 15-minute
token because the console refreshes it, and a refused refresh sends nobody away while
their token still works."""

from __future__ import annotations

import re
import time

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from yarl import URL

from clients.console.session import Cookies, Session
from deploy.local.embedded_store import free_port
from services.gateway.app import create_app as gateway_app
from tests.integration.gateway.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.integration


@pytest.fixture
async def console(gw_settings, membership):
    port = free_port()
    settings = gw_settings.model_copy(
        update={
            "membership_url": str(membership.make_url("")).rstrip("/"),
            "gateway_port": port,
            "console_api_url": f"http://127.0.0.1:{port}",
            "gateway_refresh_grace_seconds": 0,
        }
    )
    server = TestServer(gateway_app(settings), port=port)
    await server.start_server()
    # unsafe: cookies for an IP address (127.0.0.1), as a browser keeps them.
    async with ClientSession(base_url=f"http://127.0.0.1:{port}", cookie_jar=CookieJar(unsafe=True)) as http:
        yield http, settings
    await server.close()


async def sign_in(http: ClientSession) -> None:
    page = await (await http.get("/console/login")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    resp = await http.post(
        "/console/login",
        data={"csrf": csrf, "username": "admin", "password": ADMIN_PASSWORD, "next": "/console/"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/console/"


def session_of(http: ClientSession, cookies: Cookies) -> Session:
    raw = {c.key: c.value for c in http.cookie_jar}["lh_session"]

    class Request(dict):
        pass

    request = Request()
    request.cookies = {"lh_session": raw}  # type: ignore[attr-defined]
    found = cookies.read_session(request)  # type: ignore[arg-type]
    assert found is not None
    return found


async def test_the_console_refreshes_a_token_past_half_its_life(console):
    http, settings = console
    await sign_in(http)
    cookies = Cookies(settings.derived_secret("console-session"))
    first = session_of(http, cookies)
    # The same sign-in, as it is when its token has only a few minutes left.
    aged = Session(first.token, time.time() + 60, first.ttl, first.username, first.role, first.organization_id)

    class Writer:
        def set_cookie(self, name, value, **_):
            http.cookie_jar.clear(lambda c: c.key == name)
            http.cookie_jar.update_cookies({name: value}, URL(f"http://127.0.0.1:{settings.gateway_port}/console/"))

    class Plain(dict):
        secure = False
        headers: dict[str, str] = {}

    cookies.write_session(Plain(), Writer(), aged)  # type: ignore[arg-type]
    resp = await http.get("/console/")
    assert resp.status == 200 and "việc hôm nay" in await resp.text()
    renewed = session_of(http, cookies)
    assert renewed.token != first.token and renewed.expires_at > aged.expires_at
    api = f"http://127.0.0.1:{settings.gateway_port}/api/v1/auth/me"
    async with ClientSession() as other:
        assert (await other.get(api, headers={"Authorization": f"Bearer {first.token}"})).status == 401
        assert (await other.get(api, headers={"Authorization": f"Bearer {renewed.token}"})).status == 200


async def test_an_ended_login_sends_the_person_to_sign_in_again(console):
    http, settings = console
    await sign_in(http)
    token = session_of(http, Cookies(settings.derived_secret("console-session"))).token
    async with ClientSession() as other:
        await other.post(
            f"http://127.0.0.1:{settings.gateway_port}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
    resp = await http.get("/console/members", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/login?next=%2Fconsole%2Fmembers"


async def test_console_pages_carry_a_strict_policy_and_never_the_token(console):
    http, settings = console
    await sign_in(http)
    resp = await http.get("/console/")
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe" not in policy
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"
    token = session_of(http, Cookies(settings.derived_secret("console-session"))).token
    assert token not in await resp.text()


async def test_the_gateways_own_address_leads_a_browser_to_the_console(console):
    http, _ = console
    resp = await http.get("/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/"
    page = await http.get("/")  # followed: the console's sign-in page, in Vietnamese
    assert page.status == 200 and 'lang="vi"' in await page.text()
