"""The waiting list: a freed seat goes to its head at once, and seats never sit idle.

`fill` moves a free seat to the waiting list (one atomic update of the event's
counters) and then flips exactly one waitlisted registration (another conditional
update), so racing cancellations and several replicas promote one person per seat.

The lease of every registration batch this process is writing is renewed while it
is written (`renew_due`: no store command for the usual batch, written within
milliseconds; one per lease third for a batch that takes longer).

`heal`, run by every replica's healer, gives back what batches whose lease lapsed
(their process died between taking seats and writing the registrations) never wrote
— seconds after their lease lapses, not minutes (a batch written in full is
forgotten by its event's next ledger update, or here) — and moves any seat left free
while people wait. The healer does not poll fast (`next_look_in`): it looks again
when a batch it saw of another process would lapse; a lease after registrations are
heard of on the bus (`registrations_heard`: the replica that wrote them had batches
in hand, and one that died leaves work only a look finds — at most one such look per
lease while registrations keep coming); soon again while a seat it could not move
waits; and else every SAFETY_NET_SECONDS — the bound for a replica that died before
the others heard of any registration it wrote since their last look (each replica
hears its share of them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from services.events.announcements import registrant, summary
from services.events.programme import ACTIVE, stamp
from services.events.reach import PRODUCER, Deps
from services.events.records import BatchIntent, EventDoc, RegistrationDoc
from services.events.registrants import new_ticket_code
from shared.clock import epoch, now_utc
from shared.contracts import RegistrationPromoted, new_event
from shared.logging import get_logger

log = get_logger(__name__)
LEASE_SECONDS = 15.0  # a batch whose process stopped renewing for this long is given back
OLD_INTENT_SECONDS = 300.0  # intents written before leases existed
SAFETY_NET_SECONDS = 30.0  # the healer's look when nothing tells it to look sooner
LAPSE_MARGIN_SECONDS = 0.2  # look this long after a lease should have lapsed


class InFlight(dict[str, str]):
    """Batch key → event id, for the batches this process is writing; remembers when each
    began, and tells `on_added` (the lease renewer) of each new one."""

    def __init__(self) -> None:
        super().__init__()
        self.since: dict[str, float] = {}
        self.on_added: Callable[[], None] | None = None

    def __setitem__(self, key: str, event_id: str) -> None:
        super().__setitem__(key, event_id)
        self.since[key] = time.monotonic()
        if self.on_added is not None:
            self.on_added()

    def pop(self, key: str, *default: Any) -> Any:
        self.since.pop(key, None)
        return super().pop(key, *default)


class Seating:
    def __init__(self, deps: Deps, lease_seconds: float = LEASE_SECONDS, look_seconds: float = 5.0) -> None:
        self.deps = deps
        self.lease_seconds = lease_seconds
        self.look_seconds = look_seconds  # how soon the healer looks again at a seat it could not move
        self.in_flight = InFlight()  # batch key → event id, for batches this process writes
        self._next_lapse: float | None = None  # epoch: the soonest lease of another process's batch seen
        self._look_at: float | None = None  # monotonic: a look promised after registrations were heard of
        self._left_waiting = False  # the last look left a seat free while people wait

    def lease(self) -> float:
        return epoch() + self.lease_seconds

    # --- the waiting list ---------------------------------------------------------------

    async def fill(self, event_id: str, correlation_id: str | None) -> list[str]:
        """Give every free seat to the head of the waiting list; returns who was promoted."""
        promoted: list[str] = []
        event: EventDoc | None = None
        while await self.deps.ledger.seat_for_waitlisted(event_id, list(ACTIVE)) is not None:
            head = await self.deps.regs.waitlist_head(event_id)
            if head is not None:
                event = event or await self.deps.event(event_id)
                if await self._promote(head, event, correlation_id):
                    promoted.append(head["_id"])
                    continue
            await self.deps.ledger.undo_seat_for_waitlisted(event_id)  # they left meanwhile, or not written yet
            if head is None:
                # Someone counted as waiting has not written their registration yet; they fill when they do.
                return promoted
        return promoted

    async def _promote(self, reg: RegistrationDoc, event: EventDoc, correlation_id: str | None) -> bool:
        now = stamp(now_utc())
        code = new_ticket_code()
        links = self.deps.links
        envelope = new_event(
            RegistrationPromoted(
                event=summary(event, links),
                registrant=registrant(reg),
                ticket_code=code,
                qr_url=links.qr(code),
                cancel_url=links.cancel(reg["_id"]),
                calendar_url=links.calendar_for(reg),
            ),
            producer=PRODUCER,
            correlation_id=correlation_id,
        )
        done = await self.deps.regs.change(
            {"_id": reg["_id"], "status": "waitlisted"},
            {"$set": {"status": "confirmed", "ticket_code": code, "confirmed_at": now, "promoted_at": now}},
            envelope,
            fields={"_id": 1},
        )
        if done is not None:
            log.info("registration.promoted", event_id=event["_id"], registration_id=reg["_id"])
        return done is not None

    # --- healing ------------------------------------------------------------------------

    async def heal(self) -> int:
        """Renew our batches' leases, give back lapsed batches, move seats left free while
        people wait; returns how many were promoted."""
        await self.renew()
        promoted = 0
        self._next_lapse, self._left_waiting = None, False
        for doc in await self.deps.ledger.to_heal(list(ACTIVE)):
            freed = await self._release_lapsed(doc["_id"], doc.get("pending") or {})
            if freed or (doc.get("seats_free", 0) > 0 and doc.get("waiting", 0) > 0):
                moved = len(await self.fill(doc["_id"], None))
                # Nobody to move yet (a place counted, its registration not written): look again soon.
                self._left_waiting = self._left_waiting or (moved == 0 and doc.get("waiting", 0) > 0)
                promoted += moved
        return promoted

    def registrations_heard(self) -> float | None:
        """A registration was heard of (on the bus): the replica that wrote it may have more
        batches in hand, and if it dies their leases lapse within a lease. Seconds until the
        healer should look for that, or None when such a look is promised already."""
        now = time.monotonic()
        if self._look_at is not None and self._look_at > now:
            return None
        self._look_at = now + self.lease_seconds + LAPSE_MARGIN_SECONDS
        return self._look_at - now

    def next_look_in(self) -> float | None:
        """Seconds until the healer should look again; None: only the safety net."""
        waits = []
        if self._look_at is not None and self._look_at > time.monotonic():
            waits.append(self._look_at - time.monotonic())
        if self._left_waiting:
            waits.append(self.look_seconds)
        if self._next_lapse is not None:
            waits.append(max(0.0, self._next_lapse - epoch()) + LAPSE_MARGIN_SECONDS)
        return min(waits) if waits else None

    async def _release_lapsed(self, event_id: str, pending: dict[str, Any]) -> bool:
        """Release the event's lapsed batches that are not ours; True if seats came back.
        Notes when the soonest of the others will lapse (look again then)."""
        now, freed = epoch(), False
        for key, intent in pending.items():
            if not isinstance(intent, dict) or key in self.in_flight:
                continue
            if _lapsed(intent, now):
                freed = await self.release(event_id, key, cast(BatchIntent, intent)) or freed
            else:
                lapse = _lapses_at(intent)
                self._next_lapse = lapse if self._next_lapse is None else min(self._next_lapse, lapse)
        return freed

    async def renew(self) -> None:
        until = self.lease()
        for key, event_id in list(self.in_flight.items()):
            await self.deps.ledger.renew(event_id, key, until)

    async def renew_due(self) -> float | None:
        """Renew the leases of our batches written for a third of a lease already (the usual
        batch is done long before: no store command); seconds until the next is due, None
        when no batch is in hand."""
        every = self.lease_seconds / 3
        now = time.monotonic()
        for key, since in list(self.in_flight.since.items()):
            if now - since >= every and key in self.in_flight:
                await self.deps.ledger.renew(self.in_flight[key], key, self.lease())
                if key in self.in_flight:  # not written and forgotten meanwhile
                    self.in_flight.since[key] = now
        starts = list(self.in_flight.since.values())
        return max(0.0, min(starts) + every - time.monotonic()) if starts else None

    async def release(self, event_id: str, key: str, intent: BatchIntent) -> bool:
        """Give back the seats and places of a dead batch's registrations that were never written;
        True if seats came back."""
        ids = list(intent.get("ids") or [])
        written = await self.deps.regs.written(ids)
        lost_seats, lost_places = _lost(intent, ids, written)
        released = await self.deps.ledger.settle(event_id, key, lost_seats=lost_seats, lost_places=lost_places)
        if released and (lost_seats or lost_places):
            self.deps.cache.forget(event_id)
            log.warning(
                "registrations.unwritten_batch_released",
                event_id=event_id,
                batch=key,
                seats=lost_seats,
                places=lost_places,
            )
        return released and lost_seats > 0


def _lost(intent: BatchIntent, ids: list[str], written: set[str]) -> tuple[int, int]:
    """Seats and places a batch took for registrations it never wrote."""
    seats, places = int(intent.get("seats") or 0), int(intent.get("places") or 0)
    missing = [i not in written for i in ids]
    return sum(missing[:seats]), sum(missing[seats : seats + places])


def _lapsed(intent: Any, now: float) -> bool:
    return _lapses_at(intent) < now


def _lapses_at(intent: Any) -> float:
    lease = intent.get("lease")
    return float(intent.get("at") or 0) + OLD_INTENT_SECONDS if lease is None else float(lease)
