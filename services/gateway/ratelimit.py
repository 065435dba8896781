"""Token buckets: each caller may burst up to `burst` requests, refilled at `rate` per second.

One bucket per key (an API key, a staff login, a client address). Buckets live in
the process: each gateway replica limits on its own, which bounds the total to
replicas × rate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float  # seconds until one more request is allowed (0 when allowed)
    reset: float  # seconds until the bucket is full again

    def headers(self, window: float) -> dict[str, str]:
        """IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers)."""
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset)),
            "RateLimit-Policy": f"{self.limit};w={math.ceil(window)}",
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
        return out


class TokenBuckets:
    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)

    @property
    def window(self) -> float:
        """Seconds a full bucket takes to refill."""
        return self.burst / self.rate

    def take(self, key: str, cost: float = 1.0) -> Decision:
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._prune(now)
        self._buckets[key] = (tokens, now)
        retry_after = 0.0 if allowed else (cost - tokens) / self.rate
        return Decision(allowed, self.burst, int(tokens), retry_after, (self.burst - tokens) / self.rate)

    def _prune(self, now: float) -> None:
        # Forget callers whose bucket has refilled: they lose nothing.
        full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
