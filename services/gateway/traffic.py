"""Traffic counters like the federation's website shows: online now, visits today,
this week, this month, this year and in total.

A visit is a caller's first request after 30 minutes without one (a caller is a
client address with its credential, kept only as a keyed hash). Periods follow the
calendar in Asia/Ho_Chi_Minh. Counts gather in memory and are added to the store
every few seconds with `$inc` by a background loop, so they survive restarts and
add up across replicas; "online now" counts callers seen in the last five minutes.
The same loop forgets absent callers, old login guards and idle rate-limit buckets.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime

from services.gateway.endpoints import Traffic
from services.gateway.store import GatewayStore
from shared.clock import LOCAL, epoch
from shared.logging import get_logger
from shared.loops import BackgroundLoop

log = get_logger(__name__)

VISIT_GAP_SECONDS = 30 * 60
ONLINE_SECONDS = 5 * 60
TIDY_EVERY_SECONDS = 600.0
FORGET_AFTER_SECONDS = 86_400.0


def periods(moment: float) -> dict[str, str]:
    """The counter each period of `moment` adds to, e.g. {"today": "day:2026-11-27", ...}."""
    local = datetime.fromtimestamp(moment, LOCAL)
    year, week, _ = local.isocalendar()
    return {
        "today": f"day:{local:%Y-%m-%d}",
        "this_week": f"week:{year}-W{week:02d}",
        "this_month": f"month:{local:%Y-%m}",
        "this_year": f"year:{local:%Y}",
        "total": "total",
    }


class TrafficCounter:
    def __init__(self, store: GatewayStore, key: bytes, flush_seconds: float = 2.0) -> None:
        self.store = store
        self.key = key
        self._last_seen: dict[str, float] = {}
        self._pending: dict[str, int] = {}
        self._present: dict[str, float] = {}
        self._tidied = time.monotonic()
        self._loop = BackgroundLoop("traffic-flush", self._step, idle_seconds=flush_seconds)

    def client_id(self, address: str, credential: str | None) -> str:
        return hmac.new(self.key, f"{address}|{credential or ''}".encode(), hashlib.sha256).hexdigest()[:24]

    def seen(self, client: str, now: float) -> None:
        last = self._last_seen.get(client)
        if last is None or now - last >= VISIT_GAP_SECONDS:
            for period in periods(now).values():
                self._pending[period] = self._pending.get(period, 0) + 1
        self._last_seen[client] = now
        if last is None or now - last >= 30:  # presence written at most twice a minute per caller
            self._present[client] = now
        if len(self._last_seen) > 200_000:
            cutoff = now - VISIT_GAP_SECONDS
            self._last_seen = {c: t for c, t in self._last_seen.items() if t >= cutoff}

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        present, self._present = self._present, {}
        try:
            if pending:
                await self.store.add_traffic(pending)
            if present:
                await self.store.mark_present(present)
        except Exception:
            # Put the counts back: the next flush tries again.
            for period, n in pending.items():
                self._pending[period] = self._pending.get(period, 0) + n
            self._present.update(present)
            log.warning("gateway.traffic_flush_failed")

    async def snapshot(self, now: float) -> Traffic:
        await self.flush()
        names = periods(now)
        counts = await self.store.traffic_counts(list(names.values()))
        return Traffic(
            online_now=await self.store.online(now - ONLINE_SECONDS), **{n: counts[k] for n, k in names.items()}
        )

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self.flush()

    async def _step(self) -> bool:
        await self.flush()
        if time.monotonic() - self._tidied >= TIDY_EVERY_SECONDS:
            self._tidied = time.monotonic()
            before = epoch() - FORGET_AFTER_SECONDS
            await self.store.forget_absent(before)
            await self.store.forget_old_guards(before)
            await self.store.forget_idle_buckets(before)
        return False  # then wait for the next flush
