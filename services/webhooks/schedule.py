"""When a delivery is tried again, when it is given up, and when an endpoint is disabled.

Defaults (settings): tries right away, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h after
the previous one, 10 h apart after that, until the next try would come more than 72 h
after the first (12 tries over about three days). A small random stretch (up to 10%)
keeps retries of many deliveries failed at once from arriving together. An answer
with `Retry-After` (429, 503) is honoured when it asks for longer.

A delivery succeeds on any 2xx answer; 3xx is a failure (redirects are never
followed: the partner should register the new URL); 410 Gone disables the endpoint.
An endpoint whose tries have all failed for `disable_after` (5 days) is disabled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["delivered", "gone", "failed"]
JITTER = 0.1
MAX_RETRY_AFTER_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RetrySchedule:
    delays: tuple[float, ...]  # before the 2nd try, the 3rd…; the last repeats
    give_up_after: float  # seconds after the first try

    @classmethod
    def of(cls, delays: Sequence[float], give_up_after_hours: float) -> RetrySchedule:
        if not delays or any(d <= 0 for d in delays):
            raise ValueError("retry delays must be positive and at least one")
        return cls(tuple(delays), give_up_after_hours * 3600)

    def delay_after(self, tries: int) -> float:
        """Seconds to wait after the `tries`-th try failed (tries >= 1)."""
        return self.delays[min(tries, len(self.delays)) - 1]

    def next_try(
        self, first_try_at: float, tries: int, now: float, *, jitter: float = 0.0, retry_after: float | None = None
    ) -> float | None:
        """When to try again after `tries` failed tries, or None to give up.
        `jitter` in [0, 1) stretches the delay by up to 10%."""
        delay = self.delay_after(tries) * (1 + JITTER * jitter)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        due = now + delay
        return None if due - first_try_at > self.give_up_after else due

    def plan(self) -> list[float]:
        """Seconds after the first try at which each try happens (for documentation and tests)."""
        times, tries, at = [0.0], 1, 0.0
        while (due := self.next_try(0.0, tries, at)) is not None:
            times.append(due)
            at, tries = due, tries + 1
        return times


def outcome_of(status: int) -> Outcome:
    if 200 <= status < 300:
        return "delivered"
    return "gone" if status == 410 else "failed"


def retry_after_seconds(status: int, header: str | None) -> float | None:
    """A `Retry-After` in seconds, for the answers that may carry one (429, 503)."""
    if status not in (429, 503) or not header:
        return None
    try:
        seconds = float(header.strip())
    except ValueError:
        return None  # an HTTP date: the schedule's own delay stands
    return seconds if seconds >= 0 else None


def failing_too_long(failing_since: float, now: float, disable_after_hours: float) -> bool:
    """Have every try to this endpoint failed for long enough to disable it?"""
    return failing_since > 0 and now - failing_since >= disable_after_hours * 3600
