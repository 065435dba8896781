"""Staff's templates: list them, read the active version, save a new one (checked
with sample data first), read the versions, preview a template or a draft."""

from __future__ import annotations

from typing import Any

from services.notifications.catalogue import NOTIFICATIONS, ROUTES, sample_context
from services.notifications.endpoints import PreviewIn, TemplateIn
from services.notifications.messages import MESSAGES
from services.notifications.rendering import (
    LANGUAGES,
    PARTS,
    Renderer,
    TemplateProblem,
    TemplateSource,
    TemplateTooCostly,
)
from services.notifications.templates import TemplateStore, VersionConflict
from shared.errors import Conflict, FieldError, NotFound, Problem
from shared.settings import Settings

Path = tuple[str, str, str]  # notification, channel, language


def route_table() -> dict[str, Any]:
    """Which notifications each event causes, on which channels."""
    items = [
        {
            "event_type": event_type,
            "notification": r.notification,
            "channels": list(r.channels),
            "category": r.category,
            "audience": r.audience,
            "description": r.description,
        }
        for event_type, routes in ROUTES.items()
        for r in routes
    ]
    return {"items": items}


def template_path(notification: str, channel: str, language: str) -> Path:
    if notification not in NOTIFICATIONS or channel not in PARTS or language not in LANGUAGES:
        raise NotFound(
            MESSAGES("notifications.no_such_template"),
            notifications=NOTIFICATIONS,
            channels=list(PARTS),
            languages=list(LANGUAGES),
        )
    return notification, channel, language


def problems_error(problems: list[TemplateProblem]) -> Problem:
    errors = [
        FieldError(f"parts.{p.part}", p.message, "template", extra={**({"line": p.line} if p.line else {}), **p.extra})
        for p in problems
    ]
    return Problem(
        422,
        "invalid-template",
        MESSAGES("notifications.invalid_template"),
        MESSAGES("notifications.invalid_template.detail", count=len(errors)),
        errors=errors,
    )


def _out(source: TemplateSource) -> dict[str, Any]:
    return {
        "notification": source.notification,
        "channel": source.channel,
        "language": source.language,
        "version": source.version,
        "parts": source.parts,
    }


def _parts(given: Any) -> dict[str, str]:
    return {k: v for k, v in given.model_dump().items() if v is not None}


class TemplateDesk:
    def __init__(self, settings: Settings, templates: TemplateStore, renderer: Renderer) -> None:
        self.settings = settings
        self.templates = templates
        self.renderer = renderer

    async def summaries(self) -> dict[str, Any]:
        stored = await self.templates.stored_versions()
        items = []
        for key, source in sorted(self.renderer.defaults.items()):
            edited = stored.get(key)
            items.append(
                {
                    "notification": source.notification,
                    "channel": source.channel,
                    "language": source.language,
                    "version": int(edited["version"]) if edited else 0,
                    "edited": edited is not None,
                }
            )
        return {"items": items}

    async def active(self, path: Path) -> dict[str, Any]:
        source = await self.templates.active(*path)
        if source is None or source.language != path[2]:
            raise NotFound(MESSAGES("notifications.no_such_template"))
        return _out(source)

    async def save(self, path: Path, body: TemplateIn, author: str) -> dict[str, Any]:
        source = TemplateSource(*path, _parts(body.parts), version=-1)
        await self._check(source, self.settings.sms_max_segments, sample_context(path[0], path[2]))
        try:
            saved = await self.templates.save(source, expected_version=body.expected_version, author=author)
        except VersionConflict as exc:
            raise Conflict(MESSAGES("notifications.template_changed"), current_version=exc.args[0]) from None
        return _out(saved)

    async def versions(self, path: Path) -> dict[str, Any]:
        return {"items": await self.templates.history(":".join(path))}

    async def preview(self, path: Path, body: PreviewIn) -> dict[str, Any]:
        if body.parts is not None:
            source = TemplateSource(*path, _parts(body.parts), version=-1)
        else:
            active = await self.templates.active(*path)
            if active is None:
                raise NotFound(MESSAGES("notifications.no_such_template"))
            source = active
        sample = {**sample_context(path[0], path[2]), **body.sample}
        await self._check(source, 10, sample)
        if path[1] == "email":
            email = await self.renderer.off_loop(self.renderer.email, source, path[2], sample)
            return {"subject": email.subject, "text": email.text, "html": email.html}
        s = self.settings
        sms = await self.renderer.off_loop(
            self.renderer.sms, source, path[2], sample, unicode=s.sms_unicode, announcement=self._announcement(path)
        )
        return {"text": sms.text, "segments": sms.size.segments, "encoding": sms.size.encoding}

    def _announcement(self, path: Path) -> tuple[str, str] | None:
        s = self.settings
        return (s.sms_announcement_tag, s.sms_opt_out_text) if path[0] == "announcement" else None

    async def _check(self, source: TemplateSource, max_segments: int, sample: dict[str, Any]) -> None:
        try:
            problems = await self._problems(source, max_segments, sample)
        except TemplateTooCostly as exc:
            problems = [TemplateProblem("text", f"{type(exc).__name__}: {exc}")]
        if problems:
            raise problems_error(problems)

    async def _problems(
        self, source: TemplateSource, max_segments: int, sample: dict[str, Any]
    ) -> list[TemplateProblem]:
        return await self.renderer.off_loop(
            self.renderer.check,
            source,
            sample,
            max_segments=max_segments,
            unicode=self.settings.sms_unicode,
            announcement=self._announcement((source.notification, source.channel, source.language)),
        )
