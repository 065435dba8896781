"""Rendering notifications from Jinja2 templates, per notification, channel and language.

Templates live in `templates/<notification>/<channel>.<language>.<part>`; Vietnamese
is the default and the fallback when a language has no template.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "vi"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, directory: Path = TEMPLATE_DIR) -> None:
        loader = jinja2.FileSystemLoader(str(directory))
        self._text = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=False,
                                        keep_trailing_newline=True)
        self._html = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=True)

    def email(self, notification: str, language: str, context: dict[str, Any]) -> RenderedEmail:
        lang = language if self._exists(f"{notification}/email.{language}.txt") else DEFAULT_LANGUAGE
        base = f"{notification}/email.{lang}"
        subject = self._text.get_template(f"{base}.subject.txt").render(context)
        return RenderedEmail(
            subject=" ".join(subject.split()),
            text=self._text.get_template(f"{base}.txt").render(context),
            html=self._html.get_template(f"{base}.html").render(context),
        )

    def _exists(self, name: str) -> bool:
        try:
            self._text.get_template(name)
            return True
        except jinja2.TemplateNotFound:
            return False
