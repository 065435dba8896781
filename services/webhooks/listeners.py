"""Which endpoints listen to which event type, kept in memory instead of read per event.

Fan-out asks this for every event that passes (member changes, registrations…), and
on most platforms most event types have no endpoint at all: reading the endpoints
each time was one store command per event for nothing. The active endpoints are read
in one query and kept; they are read again, at the next event that needs them,

- after any endpoint write made by this process (registering, changing, pausing,
  removing, disabling one: `EndpointStore.writes`);
- after any replica's endpoint write: each announces it (`webhook.endpoint_changed`,
  store.py), and every replica hears it on a broadcast queue of its own
  (handlers.py), which makes the kept copy `stale`;
- when the bus connection comes back, since notices sent meanwhile were missed;
- otherwise at most every SAFETY_NET_SECONDS, when an event needs them (never when
  idle): for a notice lost all the same (a removal's goes straight to the bus, not
  through the outbox: subscribing.py).

So an endpoint registered, changed or removed on another replica is heard by this one
as soon as the notice arrives (tens of milliseconds; README, "Subscribing"), and an
event that passes meanwhile is fanned out as before the change. That direction is
harmless for a pause or a removal: a delivery made for an endpoint paused or removed
meanwhile is cancelled once the dispatcher, which reads the endpoint itself before
sending, finds it so; a revoked key's grant is read afresh for every fan-out, so it
never hears another event. Concurrent events share one read, and a read begun before
a write or a notice is not trusted.
"""

from __future__ import annotations

import asyncio
import time

from services.webhooks.store import EndpointDoc, EndpointStore

SAFETY_NET_SECONDS = 60.0


class Listeners:
    def __init__(self, endpoints: EndpointStore, safety_net_seconds: float | None = None) -> None:
        self.endpoints = endpoints
        self.safety_net_seconds = SAFETY_NET_SECONDS if safety_net_seconds is None else safety_net_seconds
        self._by_type: dict[str, list[EndpointDoc]] = {}
        self._read_at = float("-inf")
        self._heard = 0  # changes heard of from elsewhere (`stale`)
        self._read_as_of = -1  # `_changes()` when the kept copy was read
        self._reading: dict[int, asyncio.Future[None]] = {}  # reads under way, by the changes they follow

    async def of(self, event_type: str) -> list[EndpointDoc]:
        """The active endpoints subscribed to `event_type`."""
        if self._stale():
            await self._read()
        return list(self._by_type.get(event_type, ()))

    def stale(self) -> None:
        """An endpoint changed elsewhere, or news of one may have been missed: read again
        at the next event that needs the endpoints."""
        self._heard += 1

    def _changes(self) -> int:
        """Changes known of so far, written here or heard of (both only grow)."""
        return self.endpoints.writes + self._heard

    def _stale(self) -> bool:
        return self._read_as_of != self._changes() or time.monotonic() - self._read_at > self.safety_net_seconds

    async def _read(self) -> None:
        """One read for every event asking at once; one begun before a change is not joined."""
        changes = self._changes()
        reading = self._reading.get(changes)
        if reading is None:
            reading = self._reading[changes] = asyncio.ensure_future(self._load(changes))
            reading.add_done_callback(lambda _: self._reading.pop(changes, None))
        await asyncio.shield(reading)

    async def _load(self, changes: int) -> None:
        at = time.monotonic()  # as of before the read
        by_type: dict[str, list[EndpointDoc]] = {}
        for endpoint in await self.endpoints.active():
            for event_type in endpoint["event_types"]:
                by_type.setdefault(event_type, []).append(endpoint)
        if changes >= self._read_as_of:  # a later read may have finished first
            self._by_type, self._read_at, self._read_as_of = by_type, at, changes
