"""Words people read, in Vietnamese (the default) and English.

Every user-facing text lives in a catalogue: a mapping of keys to one text per
language. Services make theirs with `Catalogue(...)`; every catalogue is registered
here, so a `Message` (a key and its parameters, rendered later) can be turned into
text in the reader's language wherever it ends up: a problem+json answer, an
import report read next week, an email.

`negotiate` reads `Accept-Language`: Vietnamese unless the caller prefers English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Lang = Literal["vi", "en"]
LANGUAGES: tuple[Lang, ...] = ("vi", "en")
DEFAULT_LANG: Lang = "vi"

_REGISTRY: dict[str, Mapping[str, str]] = {}


class Catalogue:
    """The texts of one part of the platform. Keys are global: prefix them with the
    service (`membership.duplicate_member`) unless they are shared words."""

    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        for key, texts in messages.items():
            missing = [lang for lang in LANGUAGES if not texts.get(lang)]
            if missing:
                raise ValueError(f"message {key!r} has no text in {', '.join(missing)}")
            if key in _REGISTRY and _REGISTRY[key] != texts:
                raise ValueError(f"message {key!r} is defined twice with different texts")
            _REGISTRY[key] = texts
        self.keys = frozenset(messages)

    def __call__(self, key: str, **params: Any) -> Message:
        """A message of this catalogue, to render in the reader's language later."""
        if key not in self.keys:
            raise KeyError(key)
        return Message(key, params)

    def text(self, key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
        return Message(key, params).render(lang)


@dataclass(frozen=True)
class Message:
    """A catalogue key and its parameters; rendered in the reader's language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = DEFAULT_LANG) -> str:
        return render(self.key, lang, **self.params)

    def __str__(self) -> str:  # logs and exceptions read English
        return self.render("en")


Text = str | Message


def render(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """The text of `key` in `lang` with its parameters filled in; the key itself if unknown."""
    texts = _REGISTRY.get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts[DEFAULT_LANG]
    values = {k: _param(v, lang) for k, v in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def known(key: str) -> bool:
    return key in _REGISTRY


def text_of(value: Text, lang: str = DEFAULT_LANG) -> str:
    """A plain string as it is, a Message rendered in `lang`."""
    return value.render(lang) if isinstance(value, Message) else value


def _param(value: Any, lang: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, Message):
        return value.render(lang)
    return value


def negotiate(accept_language: str | None) -> Lang:
    """The language to answer in: the caller's first preference among ours (RFC 9110
    weights), Vietnamese when they state none we have."""
    if not accept_language:
        return DEFAULT_LANG
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight <= 0:
            continue
        candidate: tuple[float, int, Lang] = (-weight, position, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else DEFAULT_LANG
