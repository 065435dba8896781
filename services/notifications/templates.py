"""Templates staff edited, with every version kept.

The defaults ship with the service (rendering.default_sources, version 0). Saving a
template checks it first (syntax, variables, SMS length with sample data), then
stores version n+1 as the active one and keeps every earlier version. The active
version is read at most every CACHE_SECONDS per replica: the replica a template is
saved on uses it at once, the others within that time.
"""

from __future__ import annotations

import time
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.notifications.rendering import Renderer, TemplateSource
from shared.clock import now_utc
from shared.mongo import IndexSpec, from_store

TEMPLATES = "templates"
VERSIONS = "template_versions"
INDEXES = [IndexSpec(VERSIONS, [("template", 1), ("version", -1)])]
CACHE_SECONDS = 10.0


class VersionConflict(Exception):
    """Someone saved a newer version meanwhile."""


class TemplateStore:
    def __init__(self, db: AsyncDatabase, renderer: Renderer) -> None:
        self.templates = db[TEMPLATES]
        self.versions = db[VERSIONS]
        self.renderer = renderer
        self._cache: dict[str, tuple[float, TemplateSource | None]] = {}

    async def active(self, notification: str, channel: str, language: str) -> TemplateSource | None:
        """The template to send with: staff's latest version, else the default; the
        Vietnamese one when the language has none."""
        for lang in dict.fromkeys((language, "vi")):
            source = await self._stored(f"{notification}:{channel}:{lang}")
            if source is not None:
                return source
            default = self.renderer.defaults.get(f"{notification}:{channel}:{lang}")
            if default is not None:
                return default
        return None

    async def _stored(self, key: str) -> TemplateSource | None:
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        doc = await self.templates.find_one({"_id": key})
        source = None if doc is None else _source(doc)
        self._cache[key] = (time.monotonic(), source)
        return source

    async def save(self, source: TemplateSource, *, expected_version: int | None, author: str) -> TemplateSource:
        current = await self.templates.find_one({"_id": source.key}, {"version": 1})
        version_now = int(current["version"]) if current else 0
        if expected_version is not None and expected_version != version_now:
            raise VersionConflict(version_now)
        version = version_now + 1
        now = now_utc()
        record = {
            "notification": source.notification,
            "channel": source.channel,
            "language": source.language,
            "parts": source.parts,
            "version": version,
            "updated_at": now,
            "updated_by": author,
        }
        try:  # the version's unique id decides a race between two editors
            await self.versions.insert_one({"_id": f"{source.key}:{version}", "template": source.key, **record})
        except DuplicateKeyError:
            raise VersionConflict(version) from None
        # $set, not replace_one: the embedded store's upserting replace ignores the filter's _id
        await self.templates.update_one({"_id": source.key}, {"$set": record}, upsert=True)
        self._cache.pop(source.key, None)
        return TemplateSource(source.notification, source.channel, source.language, source.parts, version)

    async def history(self, key: str) -> list[dict[str, Any]]:
        cursor = self.versions.find({"template": key}).sort("version", -1).limit(100)
        return [from_store({k: v for k, v in d.items() if k not in ("_id", "template")}) async for d in cursor]

    async def stored_versions(self) -> dict[str, dict[str, Any]]:
        return {d["_id"]: from_store(d) async for d in self.templates.find({}, {"parts": 0})}


def _source(doc: dict[str, Any]) -> TemplateSource:
    return TemplateSource(doc["notification"], doc["channel"], doc["language"], dict(doc["parts"]), int(doc["version"]))
