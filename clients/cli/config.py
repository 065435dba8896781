"""Where `lienhiep` keeps its login: one file in the user's config folder, readable by
the user alone (0600). `LIENHIEP_URL` and `LIENHIEP_TOKEN` override it for scripts."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

DEFAULT_URL = "http://127.0.0.1:8080"


@dataclass
class Saved:
    url: str
    token: str | None = None
    username: str | None = None
    expires_at: float = 0.0
    expires_in: int = 0

    def needs_refresh(self, now: float) -> bool:
        """Past half its life and not yet expired: a refresh keeps the login going."""
        return bool(self.token) and now < self.expires_at and self.expires_at - now < self.expires_in / 2


def path() -> Path:
    return Path(click.get_app_dir("lienhiep")) / "credentials.json"


def load() -> Saved | None:
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
        return Saved(**{k: data[k] for k in ("url", "token", "username", "expires_at", "expires_in") if k in data})
    except (OSError, ValueError, TypeError):
        return None


def save(saved: Saved) -> Path:
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = target.with_suffix(".tmp")
    # Created 0600 from the start: the token is never readable by others, not even for a moment.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(saved), f)
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)
    return target


def forget() -> None:
    saved = load()
    if saved is not None:
        save(Saved(url=saved.url))


def now() -> float:
    return time.time()
