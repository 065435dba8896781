"""Traffic counters like the federation's website shows: online now, visits today,
this week, this month, this year and in total.

A visit is a caller's first request after 30 minutes without one (a caller is a
client address with its credential, kept only as a keyed hash). Periods follow the
calendar in Asia/Ho_Chi_Minh. Counts gather in memory and are added to the store
every few seconds with `$inc`, so they survive restarts and add up across replicas;
"online now" counts callers seen in the last five minutes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.gateway.store import GatewayStore
from shared.logging import get_logger
from shared.waiting import pause, stop_task

log = get_logger(__name__)

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
VISIT_GAP_SECONDS = 30 * 60
ONLINE_SECONDS = 5 * 60


def periods(moment: float) -> dict[str, str]:
    """The counter each period of `moment` adds to, e.g. {"today": "day:2026-11-27", ...}."""
    local = datetime.fromtimestamp(moment, UTC).astimezone(LOCAL)
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
        self.flush_seconds = flush_seconds
        self._last_seen: dict[str, float] = {}
        self._pending: dict[str, int] = {}
        self._present: dict[str, float] = {}
        self._task: asyncio.Task | None = None

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

    async def snapshot(self, now: float) -> dict[str, int]:
        await self.flush()
        names = periods(now)
        counts = await self.store.traffic_counts(list(names.values()))
        out = {"online_now": await self.store.online(now - ONLINE_SECONDS)}
        out.update({name: counts[key] for name, key in names.items()})
        return out

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="traffic-flush")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        await self.flush()

    async def _loop(self) -> None:
        rounds = 0
        while True:
            await pause(self.flush_seconds)
            await self.flush()
            rounds += 1
            if rounds % 300 == 0:
                try:
                    await self.store.forget_absent(datetime.now(UTC).timestamp() - 86_400)
                except Exception:
                    log.warning("gateway.presence_cleanup_failed")
