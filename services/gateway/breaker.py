"""A circuit breaker per service replica, as pure state on a clock.

Only failures that say the replica is unhealthy count: no connection, a timeout, a
502 or 503 (`unhealthy_status`). A 4xx is the caller's mistake and a 500 is one
route's bug: neither says anything about the replica, so one caller's bad requests
never become an outage for everyone.

Closed: calls go through; `failures` unhealthy failures in a row open it. Open: calls
are refused at once, until the replica's readiness check passes (`ready()`: closed
again at once) or `reset_seconds` pass. Then half-open: one request in `1/share`
goes through; the first success closes it, a failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

UNHEALTHY_STATUSES = frozenset({502, 503})


def unhealthy_status(status: int) -> bool:
    """Does this answer of a replica say the replica itself is unhealthy?"""
    return status in UNHEALTHY_STATUSES


class CircuitBreaker:
    def __init__(
        self,
        failures: int,
        reset_seconds: float,
        *,
        share: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = failures
        self.reset_seconds = reset_seconds
        self.every = max(1, round(1 / share))  # while half-open, one request in `every` goes through
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._asked = 0

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.reset_seconds:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        admitted = self._asked % self.every == 0
        self._asked += 1
        return admitted

    def retry_after(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_seconds - (self.clock() - self.opened_at))

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failure(self) -> None:
        """An unhealthy failure (see `unhealthy_status`); never call it for a 4xx or a 500."""
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.threshold:
            self.trip()

    def trip(self) -> None:
        """Open now (the replica failed its readiness check, or a half-open trial failed)."""
        self.opened_at = self.clock()
        self._asked = 0

    def ready(self) -> None:
        """The replica's readiness check passed: close at once, whatever the pause left."""
        self.success()
