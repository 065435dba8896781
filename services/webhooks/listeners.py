"""Which endpoints listen to which event type, kept in memory instead of read per event.

Fan-out asks this for every event that passes (member changes, registrations…), and
on most platforms most event types have no endpoint at all: reading the endpoints
each time was one store command per event for nothing. The active endpoints are read
in one query and kept; they are read again

- after any endpoint write made by this process (registering, changing, pausing,
  removing, disabling one: `EndpointStore.writes`), at the next event, and
- otherwise at most every FRESH_SECONDS, when an event needs them (never when idle).

So an endpoint registered, changed or removed on *another* replica is heard by this
one from at most FRESH_SECONDS later (README, "Subscribing"). The other direction is
harmless: a delivery made for an endpoint paused or removed meanwhile is cancelled
once the dispatcher, which reads the endpoint itself before sending, finds it so; a
revoked key's grant is read afresh for every fan-out, so it never hears another
event. Concurrent events share one read.
"""

from __future__ import annotations

import asyncio
import time

from services.webhooks.store import EndpointDoc, EndpointStore

FRESH_SECONDS = 5.0


class Listeners:
    def __init__(self, endpoints: EndpointStore, fresh_seconds: float | None = None) -> None:
        self.endpoints = endpoints
        self.fresh_seconds = FRESH_SECONDS if fresh_seconds is None else fresh_seconds
        self._by_type: dict[str, list[EndpointDoc]] = {}
        self._read_at = float("-inf")
        self._read_after_writes = -1  # `EndpointStore.writes` when the kept copy was read
        self._reading: dict[int, asyncio.Future[None]] = {}  # reads under way, by the writes they follow

    async def of(self, event_type: str) -> list[EndpointDoc]:
        """The active endpoints subscribed to `event_type`."""
        if self._stale():
            await self._read()
        return list(self._by_type.get(event_type, ()))

    def _stale(self) -> bool:
        return self._read_after_writes != self.endpoints.writes or time.monotonic() - self._read_at > self.fresh_seconds

    async def _read(self) -> None:
        """One read for every event asking at once; one begun before a write here is not joined."""
        writes = self.endpoints.writes
        reading = self._reading.get(writes)
        if reading is None:
            reading = self._reading[writes] = asyncio.ensure_future(self._load(writes))
            reading.add_done_callback(lambda _: self._reading.pop(writes, None))
        await asyncio.shield(reading)

    async def _load(self, writes: int) -> None:
        at = time.monotonic()  # as of before the read
        by_type: dict[str, list[EndpointDoc]] = {}
        for endpoint in await self.endpoints.active():
            for event_type in endpoint["event_types"]:
                by_type.setdefault(event_type, []).append(endpoint)
        if writes >= self._read_after_writes:  # a later read may have finished first
            self._by_type, self._read_at, self._read_after_writes = by_type, at, writes
