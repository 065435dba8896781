"""Token buckets: each caller may burst up to `burst` requests, refilled at `rate` per second.

One bucket per key (an API key, a staff login, a client address). `TokenBuckets` is
the bucket of one process; the gateway shares each caller's bucket between its
replicas in the store and takes tokens from it in small leases (`lease_size`,
`refill`, `grant`), so the limit holds for a caller across replicas while most
requests cost no store round trip (see rate_limiting.py).
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


# --- the shared bucket's arithmetic (rate_limiting.py keeps it in the store) ---------------


def lease_size(rate: float, burst: int) -> int:
    """Tokens a replica takes from a caller's shared bucket at a time: about a quarter
    of a second's worth (at most four store round trips a second for the busiest
    caller), and at most a quarter of the burst, so tokens held by replicas that the
    caller no longer uses cost them little."""
    return max(1, min(burst // 4, math.ceil(rate / 4)))


def refill(tokens: float, at: float, now: float, rate: float, burst: int) -> float:
    """The bucket's tokens at `now`, given `tokens` at `at`."""
    return min(float(burst), tokens + max(0.0, now - at) * rate)


def grant(tokens: float, want: int) -> tuple[int, float]:
    """(tokens granted, tokens left): as many whole tokens as wanted and available."""
    granted = max(0, min(want, math.floor(tokens)))
    return granted, tokens - granted


def wait_for_one(tokens: float, rate: float) -> float:
    """Seconds until the bucket holds one whole token again."""
    return max(0.0, (1.0 - tokens) / rate)
