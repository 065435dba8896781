"""Registering: a member or a guest confirmed with a ticket, or waitlisted with a place.

Seats move only through the seat ledger's atomic conditional updates of the event
document (store.SeatLedger), never a read-then-write. Registrations for one event
that arrive together go as a batch (`Batches`): one conditional update takes seats
for all of them if that many are free (else a compare-and-set on the exact number
left takes what remains), one more puts the rest at the end of the waiting list,
and one insert writes every registration in its final state (confirmed with a
ticket, or waitlisted with its place) together with the event announcing it
(outbox). Unique keys on the registration refuse a second one for the same person
and replay an Idempotency-Key; a place refused that way is given back at once.

The ledger's updates record, in the same write, which registration ids the seats
are for and a lease the batch's process renews while it lives (seating.py): if the
process dies before writing, another replica gives the seats back once it lapses.
A batch written in full costs no write of its own to forget that record: the next
ledger update of the same event unsets it (or the healer does, once it lapses).
A guest registration thus costs the events store two commands (the ledger update
and the insert) plus the outbox relay's publishing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.events.announcements import registrant, summary
from services.events.catalogue import MESSAGES
from services.events.programme import RegistrationNotOpen, ensure_registration_open, stamp
from services.events.reach import PRODUCER, Deps, no_event, sees_contact
from services.events.records import BatchIntent, EventDoc, MemberDoc, RegistrationDoc
from services.events.registrants import (
    DuplicateRegistration,
    RegistrationIn,
    UnknownMember,
    check_audience,
    holder_keys,
    idempotency_key,
    new_ticket_code,
)
from services.events.seating import Seating
from services.events.views import registration_view
from shared.clock import epoch, now_utc
from shared.contracts import Envelope, RegistrationConfirmed, RegistrationWaitlisted, new_event
from shared.identity import Identity
from shared.logging import get_logger

log = get_logger(__name__)
SETTLE_LATER_AT_MOST = 50  # intents per event kept for the next update; older ones the healer forgets


@dataclass
class Pending:
    """A registration validated and waiting for its batch."""

    keys: dict[str, str]
    person: dict[str, Any]
    idem: str | None
    caller: str
    correlation_id: str | None
    answer: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Batches:
    """Registrations for one event that arrive while earlier batches are being written wait and
    go together: a few workers per event in this process, no timer (a lone request goes at once).
    Batches in flight at once are as safe as replicas: every seat moves by an atomic update."""

    def __init__(self, write: Any, limit: int = 200, workers: int = 3) -> None:
        self.write = write
        self.limit = limit
        self.most = workers  # batches of one event in flight at once (each is a few round trips)
        self.waiting: dict[str, list[Pending]] = {}
        self.workers: dict[str, set[asyncio.Task]] = {}

    async def submit(self, event: EventDoc, item: Pending) -> tuple[dict[str, Any], bool]:
        self.waiting.setdefault(event["_id"], []).append(item)
        running = self.workers.setdefault(event["_id"], set())
        if len(running) < self.most:
            running.add(asyncio.create_task(self._work(event), name=f"registrations-{event['_id']}"))
        result = await asyncio.shield(item.answer)
        if isinstance(result, Exception):
            raise result
        return result

    async def _work(self, event: EventDoc) -> None:
        event_id = event["_id"]
        try:
            while self.waiting.get(event_id):
                batch = self.waiting[event_id][: self.limit]
                del self.waiting[event_id][: len(batch)]
                try:
                    results = await self.write(event, batch)
                except Exception as exc:  # every caller in the batch hears of it
                    log.exception("registrations.batch_failed", event_id=event_id, size=len(batch))
                    results = [exc] * len(batch)
                for item, result in zip(batch, results, strict=False):
                    if not item.answer.done():
                        item.answer.set_result(result)
        finally:
            # In the same step as the last look at the queue: a request arriving now starts a worker.
            self.workers.get(event_id, set()).discard(asyncio.current_task())
            if not self.waiting.get(event_id):
                self.waiting.pop(event_id, None)


@dataclass
class Taken:
    """What the ledger gave a batch: seats for the first `seats`, places behind them."""

    intent: BatchIntent
    seats: int
    queued: dict[str, Any] | None = None


class Registering:
    def __init__(self, deps: Deps, seating: Seating) -> None:
        self.deps = deps
        self.seating = seating
        self._batches = Batches(self._write_batch)
        # Intents of batches written in full, forgotten by the next ledger update of their
        # event (no write of their own); the healer forgets those no update comes for.
        self._settled: dict[str, list[str]] = {}

    async def register(
        self, who: Identity, event_id: str, body: RegistrationIn, *, idempotency: str | None, correlation_id: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Confirm or waitlist one person; returns (answer, replayed)."""
        answer, replayed = await self._register(who, event_id, body, idempotency, correlation_id)
        if not sees_contact(who, {"kind": answer.get("kind") or "guest"}):
            answer = {**answer, "email": None, "phone": None}
        return answer, replayed

    async def _register(
        self, who: Identity, event_id: str, body: RegistrationIn, idempotency: str | None, correlation_id: str | None
    ) -> tuple[dict[str, Any], bool]:
        idem = idempotency_key(event_id, who.sub, idempotency) if idempotency else None
        if idem and (replay := await self._replay(idem)) is not None:
            return replay, True
        event = await self.deps.cache.get(event_id)
        if not (await self.deps.reach(who)).covers(event["organizer_id"]):
            raise no_event(event_id)
        ensure_registration_open(event, epoch())
        person = await self._person(who, event, body)
        keys = holder_keys(
            event_id, member_id=person.get("member_id"), email=person.get("email"), phone=person.get("phone")
        )
        # No duplicate lookup first: the unique keys refuse a second registration at the insert,
        # and the rare duplicate gives its place back.
        pending = Pending(keys=keys, person=person, idem=idem, caller=who.sub, correlation_id=correlation_id)
        return await self._batches.submit(event, pending)

    async def _person(self, who: Identity, event: EventDoc, body: RegistrationIn) -> dict[str, Any]:
        audience = event.get("audience") or {"kind": "public"}
        if body.guest is not None:
            check_audience(audience, None, guest=True)
            return {"kind": "guest", **body.guest.model_dump(exclude_none=True)}
        member = await self._member(who, body.member_id or "")
        if audience.get("kind") == "organizations":
            tree: set[str] = set()
            for org_id in member.get("organization_ids") or []:
                tree.update(await self.deps.tree.ancestors(org_id))
            check_audience(audience, {**member, "organization_tree": sorted(tree)}, guest=False)
        else:
            check_audience(audience, member, guest=False)
        contact = {k: member.get(k) for k in ("email", "phone", "language")}
        return {
            "kind": "member",
            "member_id": member["_id"],
            "full_name": member.get("full_name") or "",
            **{k: v for k, v in contact.items() if v},
        }

    async def _member(self, who: Identity, member_id: str) -> MemberDoc:
        """The member, if known and within the caller's reach (else unknown: nothing leaks)."""
        member = await self.deps.members.get(member_id)
        reachable = member is not None and member.get("status") != "erased"
        if (
            member is None
            or not reachable
            or not (await self.deps.reach(who)).covers_any(member.get("organization_ids") or [])
        ):
            raise UnknownMember(MESSAGES("events.unknown_member.detail"), member_id=member_id)
        return member

    # --- one batch: take seats and places, write, settle --------------------------------

    async def _write_batch(self, event: EventDoc, batch: list[Pending]) -> list[Any]:
        """Seat or queue everyone who arrived together, in arrival order: at most three atomic
        conditional updates of the event and one insert for the whole batch."""
        event = self.deps.cache.latest(event)
        taken = await self._take(event, len(batch))
        if taken is None:
            return [RegistrationNotOpen(MESSAGES("events.not_open.status", status="closed"), reason="status")] * len(
                batch
            )
        self.seating.in_flight[taken.intent["key"]] = event["_id"]
        try:
            docs, envelopes, answers = self._documents(event, batch, taken)
            refused = await self.deps.regs.insert_all(docs, envelopes)
            await self._settle(event["_id"], taken, refused)
        finally:
            self.seating.in_flight.pop(taken.intent["key"], None)
        for i in refused:
            answers[i] = await self._duplicate_answer(batch[i])
        if taken.queued is not None and taken.queued.get("seats_free", 0) > 0:
            # Queued while a seat was free (others were waiting for it): make sure the seat moves.
            await self.seating.fill(event["_id"], batch[0].correlation_id)
        return answers

    async def _take(self, event: EventDoc, n: int) -> Taken | None:
        """Seats for as many as are free, places for the rest; None if the event closed meanwhile."""
        event_id = event["_id"]
        ids = [uuid.uuid4().hex for _ in range(n)]
        intent: BatchIntent = {"key": uuid.uuid4().hex[:16], "at": epoch(), "lease": self.seating.lease(), "ids": ids}
        taken = Taken(intent, await self._take_seats(event, n, intent))
        if taken.seats == n:
            return taken
        taken.queued = await self.deps.ledger.join_waitlist(
            event_id, n - taken.seats, intent, self._settled_of(event_id)
        )
        if taken.queued is None:  # closed or cancelled meanwhile: nobody else gets in
            self.deps.cache.forget(event_id)
            if taken.seats:
                await self.deps.ledger.settle(event_id, intent["key"], lost_seats=taken.seats)
                await self.seating.fill(event_id, None)
            return None
        self.deps.cache.hint(event_id, taken.queued)
        return taken

    async def _take_seats(self, event: EventDoc, n: int, intent: BatchIntent) -> int:
        """As many of `n` seats as are free, while nobody waits: one conditional update for all,
        else one compare-and-set on the exact number left."""
        event_id = event["_id"]
        if event.get("seats_free", 0) <= 0 or event.get("waiting", 0) > 0:
            return 0  # full when last seen: straight to the queue (a seat freed since is moved by fill)
        after = await self.deps.ledger.take_seat(event_id, n, batch=intent, settled=self._settled_of(event_id))
        if after is not None:
            self.deps.cache.hint(event_id, after)
            return n
        for _ in range(50):  # each miss means another batch took seats: this ends when they are gone
            now = await self.deps.ledger.counters(event_id)
            if now is not None:
                self.deps.cache.hint(event_id, now)
            if now is None or not _seats_for_newcomers(now):
                return 0
            k = min(now["seats_free"], n)
            after = await self.deps.ledger.take_seat(
                event_id, k, exactly=now["seats_free"], batch=intent, settled=self._settled_of(event_id)
            )
            if after is not None:
                self.deps.cache.hint(event_id, after)
                return k
        return 0

    def _documents(
        self, event: EventDoc, batch: list[Pending], taken: Taken
    ) -> tuple[list[RegistrationDoc], list[Envelope], list[Any]]:
        now = now_utc()
        about = summary(event, self.deps.links)
        docs, envelopes, answers = [], [], []
        for i, item in enumerate(batch):
            doc: RegistrationDoc = {
                "_id": taken.intent["ids"][i],
                "event_id": event["_id"],
                **item.keys,  # type: ignore[typeddict-item]
                **item.person,
                "created_at": stamp(now),
                "created_epoch": epoch(now),
                "registered_by": item.caller,
            }
            if item.idem:
                doc["idempotency"] = item.idem
            position, announcement = self._place(doc, about, i, len(batch), taken, stamp(now))
            doc["first_answer"] = registration_view(doc, self.deps.links, position=position)
            docs.append(doc)
            envelopes.append(new_event(announcement, producer=PRODUCER, correlation_id=item.correlation_id))
            answers.append((doc["first_answer"], False))
        return docs, envelopes, answers

    def _place(
        self, doc: RegistrationDoc, about: Any, i: int, n: int, taken: Taken, now: datetime
    ) -> tuple[int | None, Any]:
        """Confirmed with a ticket (the first `seats`), or waitlisted with its place."""
        links = self.deps.links
        if i < taken.seats:
            doc.update({"status": "confirmed", "ticket_code": new_ticket_code(), "confirmed_at": now})
            return None, RegistrationConfirmed(
                event=about,
                registrant=registrant(doc),
                ticket_code=doc["ticket_code"],
                qr_url=links.qr(doc["ticket_code"]),
                cancel_url=links.cancel(doc["_id"]),
                calendar_url=links.calendar_for(doc),
            )
        # The batch joined the queue's end together: its members hold the last places.
        assert taken.queued is not None
        behind = n - 1 - i
        doc.update({"status": "waitlisted", "wait_seq": taken.queued["waitlist_seq"] - behind})
        position = taken.queued["waiting"] - behind
        return position, RegistrationWaitlisted(
            event=about, registrant=registrant(doc), position=position, cancel_url=links.cancel(doc["_id"])
        )

    def _settled_of(self, event_id: str) -> list[str]:
        """Taken by the ledger update about to be made (it forgets them in the same write)."""
        return self._settled.pop(event_id, [])

    async def _settle(self, event_id: str, taken: Taken, refused: set[int]) -> None:
        if not refused:  # all written: the next ledger update of the event forgets the intent
            later = self._settled.setdefault(event_id, [])
            later.append(taken.intent["key"])
            del later[:-SETTLE_LATER_AT_MOST]
            return
        lost_seats = sum(1 for i in refused if i < taken.seats)
        settled = await self.deps.ledger.settle(
            event_id, taken.intent["key"], lost_seats=lost_seats, lost_places=len(refused) - lost_seats
        )
        if not settled:
            log.error("registrations.batch_settled_by_another", event_id=event_id, batch=taken.intent["key"])
        if refused:
            self.deps.cache.forget(event_id)
        if lost_seats:
            await self.seating.fill(event_id, None)

    # --- duplicates and replays ----------------------------------------------------------

    async def _duplicate_answer(self, item: Pending) -> Any:
        if item.idem and (replay := await self._replay(item.idem)) is not None:
            return replay, True  # whichever unique key fired, a retry with the same key gets the first answer
        for key_field, value in item.keys.items():
            existing = await self.deps.regs.one({key_field: value}, {"status": 1})
            if existing is not None:
                return DuplicateRegistration(
                    MESSAGES("events.duplicate_registration.detail"),
                    field=key_field.removeprefix("holder_"),
                    registration_id=existing["_id"],
                    registration_status=existing["status"],
                )
        return DuplicateRegistration(MESSAGES("events.duplicate_registration.detail"))

    async def _replay(self, idem: str) -> dict[str, Any] | None:
        first = await self.deps.regs.one({"idempotency": idem}, {"first_answer": 1})
        return first["first_answer"] if first is not None else None


def _seats_for_newcomers(counters: dict[str, Any]) -> bool:
    return (
        counters.get("status") == "published" and counters.get("waiting", 0) <= 0 and counters.get("seats_free", 0) > 0
    )
