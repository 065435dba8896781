"""The services behind the gateway, each as a pool of replicas.

A service's URL setting may list several replicas (`MEMBERSHIP_URL=http://a:8081,
http://b:8091`). Requests go round the replicas whose circuit lets them through
(breaker.py). A background loop checks every replica's readiness (`/readyz`) every
`GATEWAY_PROBE_SECONDS`, and four times as often while one is out: a replica that
fails it is taken out at once, and put back as soon as it passes, without waiting
for its circuit's pause. A replica that answers without a readiness endpoint (404)
is taken as up.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from services.gateway.breaker import CircuitBreaker
from shared.logging import get_logger
from shared.loops import BackgroundLoop
from shared.settings import Settings

log = get_logger(__name__)
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=2)


def replica_urls(setting: str) -> list[str]:
    """The base URLs a service setting lists (comma-separated), without trailing slashes."""
    return [url.strip().rstrip("/") for url in setting.split(",") if url.strip()]


@dataclass
class Replica:
    service: str
    base: str
    breaker: CircuitBreaker
    probed_at: float = 0.0  # monotonic

    @property
    def out(self) -> bool:
        return self.breaker.state != "closed"


@dataclass
class Pool:
    """One service's replicas, chosen in turn among those whose circuit lets a request through."""

    service: str
    replicas: list[Replica]
    _turn: int = field(default=0)

    def choose(self, avoid: Replica | None = None) -> Replica | None:
        count = len(self.replicas)
        for step in range(count):
            replica = self.replicas[(self._turn + step) % count]
            if replica is avoid and count > 1:
                continue
            if replica.breaker.allow():
                self._turn = (self._turn + step + 1) % count
                return replica
        return None

    def retry_after(self) -> float:
        return min(r.breaker.retry_after() for r in self.replicas)

    @property
    def available(self) -> bool:
        return any(r.breaker.state != "open" for r in self.replicas)


class Upstreams:
    """Every service's pool, and the loop that checks the replicas' readiness."""

    def __init__(self, settings: Settings, services: list[str]) -> None:
        self.probe_seconds = settings.gateway_probe_seconds
        self.pools = {
            name: Pool(
                name,
                [
                    Replica(
                        name,
                        base,
                        CircuitBreaker(settings.gateway_breaker_failures, settings.gateway_breaker_reset_seconds),
                    )
                    for base in replica_urls(settings.upstream(name))
                ],
            )
            for name in services
        }
        self.session: aiohttp.ClientSession | None = None
        self._loop = BackgroundLoop("upstream-probe", self._probe_due, idle_seconds=self.probe_seconds / 4)

    def start(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def ready(self) -> tuple[bool, str]:
        """Has every service a replica that is ready? (each is checked now)"""
        now = time.monotonic()
        await asyncio.gather(*(self._probe(r, now) for pool in self.pools.values() for r in pool.replicas))
        down = sorted(name for name, pool in self.pools.items() if not pool.available)
        return (not down), ("ok" if not down else "not ready: " + ", ".join(down))

    async def _probe_due(self) -> bool:
        now = time.monotonic()
        due = [
            replica
            for pool in self.pools.values()
            for replica in pool.replicas
            if now - replica.probed_at >= (self.probe_seconds / 4 if replica.out else self.probe_seconds)
        ]
        if due:
            await asyncio.gather(*(self._probe(replica, now) for replica in due))
        return False

    async def _probe(self, replica: Replica, now: float) -> None:
        replica.probed_at = now
        if await self.is_ready(replica.base):
            if replica.out:
                log.info("gateway.replica_back", service=replica.service, replica=replica.base)
            replica.breaker.ready()
        else:
            if not replica.out:
                log.warning("gateway.replica_out", service=replica.service, replica=replica.base)
            replica.breaker.trip()  # stays out while its readiness fails

    async def is_ready(self, base: str) -> bool:
        assert self.session is not None
        try:
            async with self.session.get(f"{base}/readyz", timeout=PROBE_TIMEOUT) as resp:
                return resp.status < 500
        except (TimeoutError, aiohttp.ClientError):
            return False
