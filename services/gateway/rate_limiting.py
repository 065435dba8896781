"""Rate limits that hold for a caller across every gateway replica.

Each caller's token bucket lives in the store, shared by the replicas. A replica
takes tokens from it a few at a time (a *lease*, `ratelimit.lease_size`: about a
quarter of a second's worth) with one compare-and-set, and spends them on the
caller's requests from memory; when a lease runs half out, the next one is fetched
in the background. So most requests cost no store round trip, and the replicas
together never admit more than the bucket gives: at most its burst plus its rate.
What a replica holds unspent for a caller who moved on is lost to that caller
(at most a lease per replica: a few percent).

A caller refused by the shared bucket is refused from memory until its next token
is due, so a flood costs the store one look per token, not one per request. If the
store cannot be reached, each replica falls back to a bucket of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymongo.errors import PyMongoError

from services.gateway.ratelimit import Decision, TokenBuckets, grant, lease_size, refill, wait_for_one
from services.gateway.store import GatewayStore
from shared.logging import get_logger

log = get_logger(__name__)
MAX_CALLERS = 100_000
SWAP_TRIES = 5


@dataclass
class Lease:
    tokens: int = 0  # whole tokens this replica may spend
    shared_left: float = 0.0  # what the shared bucket held after the last lease (for the headers)
    refused_until: float = 0.0  # monotonic: no token before then
    fetching: asyncio.Task[bool] | None = None


class SharedBuckets:
    """One limit (rate, burst), shared by the replicas; `take(caller)` per request."""

    def __init__(
        self,
        store: GatewayStore,
        name: str,
        rate: float,
        burst: int,
        key: bytes,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.name = name
        self.rate = rate
        self.burst = burst
        self.lease = lease_size(rate, burst)
        self._key = key
        self._clock = clock
        self._leases: dict[str, Lease] = {}
        self._local = TokenBuckets(rate, burst)  # while the store cannot be reached

    @property
    def window(self) -> float:
        return self.burst / self.rate

    async def take(self, caller: str) -> Decision:
        lease = self._leases.get(caller)
        if lease is None:
            if len(self._leases) >= MAX_CALLERS:
                self._leases.clear()
            lease = self._leases[caller] = Lease()
        for _ in range(3):
            if lease.tokens >= 1:
                return self._spend(caller, lease)
            if lease.refused_until > time.monotonic():
                return self._refused(lease)
            if not await self._fetch(caller, lease):
                return self._local.take(caller)
        return self._refused(lease)

    def _spend(self, caller: str, lease: Lease) -> Decision:
        lease.tokens -= 1
        if lease.tokens <= self.lease // 2 and lease.fetching is None:
            lease.fetching = asyncio.create_task(self._fetch_quietly(caller, lease))
        remaining = int(lease.tokens + lease.shared_left)
        return Decision(True, self.burst, min(self.burst, remaining), 0.0, (self.burst - remaining) / self.rate)

    def _refused(self, lease: Lease) -> Decision:
        wait = max(0.0, lease.refused_until - time.monotonic())
        return Decision(False, self.burst, 0, wait, self.burst / self.rate)

    async def _fetch(self, caller: str, lease: Lease) -> bool:
        """Wait for a lease (one fetch at a time per caller); False if the store failed."""
        if lease.fetching is None:
            lease.fetching = asyncio.create_task(self._fetch_quietly(caller, lease))
        task = lease.fetching
        await asyncio.shield(task)
        return task.result()

    async def _fetch_quietly(self, caller: str, lease: Lease) -> bool:
        try:
            granted, left = await self._lease(self._bucket_id(caller))
        except PyMongoError as exc:
            log.warning("gateway.rate_limit_store_unavailable", error=type(exc).__name__)
            return False
        finally:
            lease.fetching = None
        lease.tokens += granted
        lease.shared_left = left
        if granted == 0 and lease.tokens < 1:
            lease.refused_until = time.monotonic() + wait_for_one(left, self.rate)
        return True

    async def _lease(self, bucket: str) -> tuple[int, float]:
        """Take up to a lease of tokens from the shared bucket: (granted, left)."""
        for _ in range(SWAP_TRIES):
            now = self._clock()
            doc = await self.store.bucket(bucket)
            if doc is None:
                granted, left = grant(float(self.burst), self.lease)
                if await self.store.create_bucket(bucket, left, now):
                    return granted, left
                continue
            tokens = refill(float(doc["tokens"]), float(doc["at"]), now, self.rate, self.burst)
            granted, left = grant(tokens, self.lease)
            if granted == 0:
                return 0, left
            if await self.store.swap_bucket(bucket, int(doc["v"]), left, now):
                return granted, left
        return 0, 0.0  # the replicas are racing for this caller's last tokens: refuse this once

    def _bucket_id(self, caller: str) -> str:
        # Keyed hash: the store keeps no client address or key prefix in clear.
        return hmac.new(self._key, f"{self.name}|{caller}".encode(), hashlib.sha256).hexdigest()[:32]
