"""The console's words: every text it shows comes from `catalogue/<lang>.json`
(Vietnamese first, English second); templates never hold text of their own."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("vi", "en")
FOLDER = Path(__file__).parent / "catalogue"


@cache
def catalogue(lang: str) -> dict[str, str]:
    with open(FOLDER / f"{lang}.json", encoding="utf-8") as f:
        return dict(json.load(f))


def translate(lang: str, key: str, **params: Any) -> str:
    """The text for `key`; a key missing from the catalogue is a bug (KeyError), found by the tests."""
    text = catalogue(lang)[key]
    return text.format(**params) if params else text


def translate_or(lang: str, key: str, fallback: str) -> str:
    """For words that come from the API (a status, a kind): the catalogue's, or the API's own."""
    return catalogue(lang).get(key, fallback)


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "vi"
