"""The console's words, formats and cookies, as pure functions: the two catalogues agree,
no template holds a word of its own, dates read dd/mm/yyyy in Asia/Ho_Chi_Minh, numbers
group the Vietnamese way, and a session cookie cannot be edited."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from clients.api import ApiProblem
from clients.console import formatting, i18n
from clients.console.session import Cookies, Session
from clients.console.views import failed

CONSOLE = Path(__file__).resolve().parents[2] / "clients" / "console"
TEMPLATES = sorted((CONSOLE / "templates").rglob("*.html"))
SOURCES = TEMPLATES + sorted((CONSOLE / "views").glob("*.py")) + [CONSOLE / "app.py"]
KEY = re.compile(r"""(?:\bt|translate\(lang(?:_of\(request\))?,|missing)\(\s*["']([a-z_]+\.[a-z_.]+)["']""")


def test_both_catalogues_have_the_same_keys_and_no_empty_text():
    vi, en = i18n.catalogue("vi"), i18n.catalogue("en")
    assert set(vi) == set(en)
    assert all(text.strip() for text in [*vi.values(), *en.values()])


def test_every_key_the_console_uses_is_in_the_catalogue():
    used = {key for path in SOURCES for key in KEY.findall(path.read_text(encoding="utf-8"))}
    used |= set(re.findall(r'"(nav\.[a-z_]+)"', (CONSOLE / "templates" / "_base.html").read_text(encoding="utf-8")))
    assert len(used) > 200
    missing = sorted(k for k in used - set(i18n.catalogue("vi")) if not k.endswith("."))  # "status." ~ s: a prefix
    assert not missing


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(CONSOLE / "templates")))
def test_no_template_holds_text_of_its_own(template: Path):
    text = template.read_text(encoding="utf-8")
    text = re.sub(r"\{% block body_class %\}.*?\{% endblock %\}", " ", text)  # a CSS class, not words
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text, flags=re.S)
    words = [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in ("XLSX", "CSV")]
    assert not words, f"{template.name}: {words[:10]}"


def test_dates_times_and_numbers_read_as_in_vietnam():
    assert formatting.day(date(2026, 3, 5)) == "05/03/2026"
    late_evening_utc = datetime(2026, 12, 2, 18, 30, tzinfo=UTC)
    assert formatting.moment(late_evening_utc) == "03/12/2026 01:30"  # already the next day in Hà Nội
    assert formatting.day(late_evening_utc) == "03/12/2026"
    assert formatting.clock("2026-12-03T06:05:00+00:00") == "13:05"
    assert formatting.number(1234567) == "1.234.567"
    assert formatting.number(1234567, "en") == "1,234,567"
    assert formatting.parse_local("2030-12-20T08:00").isoformat() == "2030-12-20T08:00:00+07:00"
    assert formatting.parse_local("20/12/2030 08:00").isoformat() == "2030-12-20T08:00:00+07:00"
    assert formatting.parse_local("tomorrow") is None
    assert formatting.parse_day("27/09/1986") == date(1986, 9, 27)
    assert formatting.parse_day("31/02/1986") is None


class FakeRequest(dict):
    def __init__(self, cookies: dict[str, str]) -> None:
        super().__init__()
        self.cookies = cookies


def test_a_session_cookie_cannot_be_edited_and_a_form_token_belongs_to_its_browser():
    cookies = Cookies(b"k" * 32)
    session = Session("lhs.token", 2_000_000_000.0, 900, "lan", "manager", "hoi-y-hoc")

    class Response:
        def __init__(self) -> None:
            self.values: dict[str, str] = {}

        def set_cookie(self, name: str, value: str, **_: object) -> None:
            self.values[name] = value

    class Secure(FakeRequest):
        secure = False
        headers: dict[str, str] = {}

    response = Response()
    cookies.write_session(Secure({}), response, session)  # type: ignore[arg-type]
    raw = response.values["lh_session"]
    assert cookies.read_session(FakeRequest({"lh_session": raw})) == session  # type: ignore[arg-type]
    payload, mac = raw.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    assert cookies.read_session(FakeRequest({"lh_session": forged})) is None  # type: ignore[arg-type]
    assert cookies.read_session(FakeRequest({"lh_session": "nonsense"})) is None  # type: ignore[arg-type]
    seed = "s" * 32
    token = cookies.csrf_token(seed)
    assert cookies.csrf_ok(FakeRequest({"lh_csrf": seed}), token)  # type: ignore[arg-type]
    assert not cookies.csrf_ok(FakeRequest({"lh_csrf": "t" * 32}), token)  # type: ignore[arg-type]
    assert not cookies.csrf_ok(FakeRequest({}), token)  # type: ignore[arg-type]


def test_an_api_problem_lands_beside_the_field_that_holds_it():
    problem = ApiProblem.from_answer(
        422,
        {
            "type": "https://lienhiep.vn/problems/validation-error",
            "title": "Dữ liệu không hợp lệ",
            "status": 422,
            "errors": [
                {"field": "sessions.0.starts_at", "message": "bad time"},
                {"field": "dues.amount_vnd", "message": "too much"},
                {"field": "body", "message": "give a venue"},
            ],
        },
    )
    form = failed(problem, {"sessions.0.starts_at": "", "amount_vnd": "", "venue": ""})
    assert form.error("sessions.0.starts_at") == ["bad time"]
    assert form.error("amount_vnd") == ["too much"]
    assert form.unplaced == [("body", "give a venue")]
    single = ApiProblem.from_answer(409, {"title": "Taken", "detail": "Choose another username", "field": "username"})
    assert failed(single, {"username": "x"}).error("username") == ["Choose another username"]


def test_scores_are_written_as_judges_write_them():
    from clients.console.formatting import points

    assert points(85.0) == "85" and points(84.67) == "84,67" and points(84.67, "en") == "84.67"
    assert points(None) == "" and points(0) == "0"
