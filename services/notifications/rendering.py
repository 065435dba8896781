"""Rendering notifications from Jinja2 templates, per notification, channel and language.

The defaults ship in `templates/<notification>/<channel>.<language>.<part>`; staff
may replace any of them over the API (templates.py keeps the versions). An email
has a subject, a plain-text part and an HTML part; when a template has no HTML part
of its own, the HTML is the text set in the shared layout (`templates/_layout.html`).
An SMS has one text part. Vietnamese is the default and the fallback language.

Templates run in Jinja2's sandbox with strict undefined variables: staff edit them,
and a misspelt variable is caught when the template is saved (`check`), not when a
member should have received the message.
"""

from __future__ import annotations

import asyncio
import functools
import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from services.notifications import sms_text
from services.notifications.rules import announcement_sms

TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")
PARTS = {"email": ("subject", "text", "html"), "sms": ("text",)}
REQUIRED_PARTS = {"email": ("subject", "text"), "sms": ("text",)}
MAX_RENDERED_CHARS = 200_000  # one part of one message, rendered
RENDER_SECONDS = 2.0
R = TypeVar("R")
_FILE_PART = {"subject": "subject.txt", "text": "txt", "html": "html"}


@dataclass(frozen=True)
class TemplateSource:
    notification: str
    channel: str
    language: str
    parts: dict[str, str]
    version: int = 0  # 0: the default that ships with the service; -1: a draft

    @property
    def key(self) -> str:
        return f"{self.notification}:{self.channel}:{self.language}"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RenderedSms:
    text: str
    size: sms_text.SmsSize


@dataclass
class TemplateProblem(Exception):
    part: str
    message: str
    line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def default_sources(directory: Path = TEMPLATE_DIR) -> dict[str, TemplateSource]:
    """Every template that ships with the service, by key."""
    found: dict[str, TemplateSource] = {}
    for folder in sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for channel, parts in PARTS.items():
            for language in LANGUAGES:
                texts = {}
                for part in parts:
                    file = folder / f"{channel}.{language}.{_FILE_PART[part] if channel == 'email' else 'txt'}"
                    if file.exists():
                        texts[part] = file.read_text(encoding="utf-8")
                if texts:
                    source = TemplateSource(folder.name, channel, language, texts)
                    found[source.key] = source
    return found


class TemplateTooCostly(jinja2.TemplateError):
    """Rendering went over its budget of time or output."""


_BUDGET = threading.local()  # the deadline of the rendering running in this thread


class BudgetedSandbox(SandboxedEnvironment):
    """Jinja2's sandbox, stopping a template past its deadline at its next call (a
    loop that produces no output still calls `range`, a filter or a method), so a
    rendering abandoned by `off_loop` does not keep its worker thread busy."""

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = getattr(_BUDGET, "deadline", None)
        if deadline is not None and time.monotonic() > deadline:
            raise TemplateTooCostly("takes too long to render")
        return super().call(__context, __obj, *args, **kwargs)


class Renderer:
    def __init__(
        self, directory: Path = TEMPLATE_DIR, *, max_chars: int = MAX_RENDERED_CHARS, seconds: float = RENDER_SECONDS
    ) -> None:
        self.max_chars = max_chars
        self.seconds = seconds
        self.directory = directory
        self.defaults = default_sources(directory)
        common = dict(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        self._text = BudgetedSandbox(autoescape=False, **common)
        self._html = BudgetedSandbox(autoescape=True, **common)
        self._layout = self._html.from_string((directory / "_layout.html").read_text(encoding="utf-8"))
        self._compiled: dict[tuple[str, int, str], jinja2.Template] = {}

    def page(self, name: str, context: dict[str, Any]) -> str:
        """A web page people reach from a message (e.g. the unsubscribe confirmation)."""
        return self._html.from_string((self.directory / "_pages" / name).read_text(encoding="utf-8")).render(context)

    def default(self, notification: str, channel: str, language: str) -> TemplateSource | None:
        return self.defaults.get(f"{notification}:{channel}:{language}") or self.defaults.get(
            f"{notification}:{channel}:{DEFAULT_LANGUAGE}"
        )

    # --- rendering ----------------------------------------------------------------

    def email(
        self,
        notification: str | TemplateSource,
        language: str = DEFAULT_LANGUAGE,
        context: dict[str, Any] | None = None,
    ) -> RenderedEmail:
        source = (
            notification if isinstance(notification, TemplateSource) else self._source(notification, "email", language)
        )
        context = {"language": source.language, "has_qr": False, **(context or {})}
        subject = " ".join(self._run(self._template(source, "subject"), context).split())
        text = self._run(self._template(source, "text"), context)
        if "html" in source.parts:
            body_html = self._run(self._template(source, "html"), context)
        else:
            paragraphs = [p.strip().split("\n") for p in text.strip().split("\n\n") if p.strip()]
            body_html = self._layout.render({**context, "subject": subject, "paragraphs": paragraphs})
        return RenderedEmail(subject=subject, text=text, html=body_html)

    def sms(
        self,
        notification: str | TemplateSource,
        language: str = DEFAULT_LANGUAGE,
        context: dict[str, Any] | None = None,
        *,
        unicode: bool = False,
        announcement: tuple[str, str] | None = None,
    ) -> RenderedSms:
        """The SMS as sent: tidy, without diacritics unless `unicode`, and for
        announcements (`(tag, opt_out)`) with the required tag and opt-out text."""
        source = (
            notification if isinstance(notification, TemplateSource) else self._source(notification, "sms", language)
        )
        text = self._run(self._template(source, "text"), {"language": source.language, **(context or {})})
        if announcement is not None:
            text = announcement_sms(" ".join(text.split()), tag=announcement[0], opt_out=announcement[1])
        text = sms_text.prepare(text, unicode=unicode)
        return RenderedSms(text=text, size=sms_text.measure(text))

    def _run(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        """Render within the budget: at most `max_chars` characters and `seconds` of
        work (checked as the output grows), so a template staff wrote cannot exhaust
        the service."""
        deadline = time.monotonic() + self.seconds
        _BUDGET.deadline = deadline  # also checked at every call the template makes (BudgetedSandbox)
        out: list[str] = []
        size = 0
        try:
            for chunk in template.generate(context):
                size += len(chunk)
                if size > self.max_chars:
                    raise TemplateTooCostly(f"renders more than {self.max_chars} characters")
                if time.monotonic() > deadline:
                    raise TemplateTooCostly(f"takes more than {self.seconds:g} s to render")
                out.append(chunk)
        finally:
            _BUDGET.deadline = None
        return "".join(out)

    async def off_loop(self, render: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a rendering call (email, sms, check) in a worker thread, so the event loop
        keeps serving; give up waiting when it overruns its budget."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(functools.partial(render, *args, **kwargs)), timeout=self.seconds + 1.0
            )
        except TimeoutError:
            raise TemplateTooCostly(f"takes more than {self.seconds:g} s to render") from None

    def _source(self, notification: str, channel: str, language: str) -> TemplateSource:
        source = self.default(notification, channel, language)
        if source is None:
            raise LookupError(f"no {channel} template for {notification}")
        return source

    def _template(self, source: TemplateSource, part: str) -> jinja2.Template:
        key = (source.key, source.version, part)
        compiled = self._compiled.get(key)
        if compiled is None:
            env = self._html if part == "html" else self._text
            compiled = env.from_string(source.parts[part])
            if source.version < 0:  # a draft being previewed: not worth keeping
                return compiled
            if len(self._compiled) > 2000:
                self._compiled.clear()
            self._compiled[key] = compiled
        return compiled

    # --- checking a template before it is saved ---------------------------------------

    def check(
        self,
        source: TemplateSource,
        sample: dict[str, Any],
        *,
        max_segments: int,
        unicode: bool,
        announcement: tuple[str, str] | None = None,
    ) -> list[TemplateProblem]:
        """Everything wrong with `source`: syntax errors, unknown variables, missing
        parts, an SMS longer than `max_segments` with the sample data."""
        problems = _shape_problems(source)
        if problems:
            return problems
        problems = [p for part in source.parts if (p := self._part_problem(source, part, sample))]
        if problems or source.channel != "sms":
            return problems
        return self._length_problems(source, sample, max_segments, unicode, announcement)

    def _part_problem(self, source: TemplateSource, part: str, sample: dict[str, Any]) -> TemplateProblem | None:
        env = self._html if part == "html" else self._text
        try:
            self._run(env.from_string(source.parts[part]), sample)
        except jinja2.TemplateSyntaxError as exc:
            return TemplateProblem(part, f"syntax error: {exc.message}", exc.lineno)
        except jinja2.UndefinedError as exc:
            return TemplateProblem(part, f"unknown variable: {exc.message}")
        except jinja2.TemplateError as exc:
            return TemplateProblem(part, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # e.g. a filter applied to the wrong type
            return TemplateProblem(
                part, f"cannot render with sample data: {type(exc).__name__}: {html.escape(str(exc))}"
            )
        return None

    def _length_problems(
        self,
        source: TemplateSource,
        sample: dict[str, Any],
        max_segments: int,
        unicode: bool,
        announcement: tuple[str, str] | None,
    ) -> list[TemplateProblem]:
        problems: list[TemplateProblem] = []
        rendered = self.sms(source, source.language, sample, unicode=unicode, announcement=announcement)
        if rendered.size.segments > max_segments:
            problems.append(
                TemplateProblem(
                    "text",
                    f"renders to {rendered.size.segments} SMS segments with the sample data; "
                    f"the limit is {max_segments}",
                    extra={
                        "segments": rendered.size.segments,
                        "encoding": rendered.size.encoding,
                        "max_segments": max_segments,
                    },
                )
            )
        return problems


def _shape_problems(source: TemplateSource) -> list[TemplateProblem]:
    """Parts the channel does not have, and required parts left empty."""
    problems = [
        TemplateProblem(part, f"a {source.channel} template has no part '{part}'")
        for part in source.parts
        if part not in PARTS[source.channel]
    ]
    problems += [
        TemplateProblem(part, "this part is required")
        for part in REQUIRED_PARTS[source.channel]
        if not source.parts.get(part, "").strip()
    ]
    return problems
