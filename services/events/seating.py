"""The waiting list: a freed seat goes to its head at once, and seats never sit idle.

`fill` moves a free seat to the waiting list (one atomic update of the event's
counters) and then flips exactly one waitlisted registration (another conditional
update), so racing cancellations and several replicas promote one person per seat.

`heal`, run every few seconds by every replica, does two things:
- renews the lease of every registration batch this process is writing, and gives
  back what batches whose lease lapsed (their process died between taking seats and
  writing the registrations) never wrote — seconds after the death, not minutes (a
  batch written in full is forgotten by its event's next ledger update, or here);
- moves any seat left free while people wait.
"""

from __future__ import annotations

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


class Seating:
    def __init__(self, deps: Deps, lease_seconds: float = LEASE_SECONDS) -> None:
        self.deps = deps
        self.lease_seconds = lease_seconds
        self.in_flight: dict[str, str] = {}  # batch key → event id, for batches this process writes

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
        for doc in await self.deps.ledger.to_heal(list(ACTIVE)):
            freed = await self._release_lapsed(doc["_id"], doc.get("pending") or {})
            if freed or (doc.get("seats_free", 0) > 0 and doc.get("waiting", 0) > 0):
                promoted += len(await self.fill(doc["_id"], None))
        return promoted

    async def _release_lapsed(self, event_id: str, pending: dict[str, Any]) -> bool:
        """Release the event's lapsed batches that are not ours; True if seats came back."""
        now, freed = epoch(), False
        for key, intent in pending.items():
            if isinstance(intent, dict) and key not in self.in_flight and _lapsed(intent, now):
                freed = await self.release(event_id, key, cast(BatchIntent, intent)) or freed
        return freed

    async def renew(self) -> None:
        until = self.lease()
        for key, event_id in list(self.in_flight.items()):
            await self.deps.ledger.renew(event_id, key, until)

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
    lease = intent.get("lease")
    if lease is None:
        return float(intent.get("at") or 0) < now - OLD_INTENT_SECONDS
    return float(lease) < now
