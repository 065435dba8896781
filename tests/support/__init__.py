"""Test helpers: waiting on a condition with a deadline (never sleep-and-hope),
and the private broker and store every test run gets."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Await `check()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout}s (last value: {last!r})")


def rabbitmqctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60)


class PrivateVhost:
    """A vhost of our own on the shared broker, so parallel runs never meet."""

    def __init__(self) -> None:
        self.name = f"lienhiep-test-{uuid.uuid4().hex[:10]}"

    @staticmethod
    def available() -> bool:
        return shutil.which("rabbitmqctl") is not None

    def create(self) -> None:
        rabbitmqctl("add_vhost", self.name)
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")

    def delete(self) -> None:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.name], capture_output=True, timeout=60)

    def close_connections(self) -> None:
        """What a broker restart or network cut does to our clients."""
        rabbitmqctl("close_all_connections", "--vhost", self.name, "test: forced disconnect")


DATA = Path(__file__).resolve().parents[1] / "data"
"""The rosters tests import (tests/data), kept in the repository."""
