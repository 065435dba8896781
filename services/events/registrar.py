"""Registration, the waiting list, the door and certificates: the registrar.

Seats move only through the seat ledger's atomic conditional updates of the event
document (store.SeatLedger), never a read-then-write. Registrations for one event
that arrive together go as a batch (`Batches`): one conditional update takes seats
for all of them if that many are free (else a compare-and-set on the exact number
left takes what remains), one more puts the rest at the end of the waiting list,
and one insert writes every registration in its final state (confirmed with a
ticket, or waitlisted with its place) together with the event announcing it
(outbox). Unique keys on the registration refuse a second one for the same person
and replay an Idempotency-Key; a place refused that way is given back at once.

A cancelled seat goes to the head of the waiting list at once: `fill` moves a free
seat to the waiting list (one atomic update) and then flips exactly one waitlisted
registration (another conditional update), so racing cancellations and several
replicas promote one person per seat. `heal`, run every few seconds by every
replica, moves any seat left free while people wait.

A process killed between taking seats and writing the registrations leaves seats
counted as taken; the ledger's updates record, in the same write, which registration
ids they were for, and `heal` gives back those never written (after five minutes).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.events.announcements import Links, registrant, summary
from services.events.catalogue import text
from services.events.clock import local_text, now_utc, to_text
from services.events.programme import (
    ACTIVE,
    EventFinished,
    RegistrationNotOpen,
    current_session,
    ensure_registration_open,
)
from services.events.registrants import (
    HOLDER_FIELDS,
    DuplicateRegistration,
    RegistrationIn,
    UnknownMember,
    check_audience,
    holder_keys,
    idempotency_key,
    new_certificate_code,
    new_ticket_code,
    normalise_code,
)
from services.events.store import EVENTS, REGISTRATIONS, MemberProjection, OrganizationProjection, SeatLedger
from shared.contracts import (
    AttendanceCheckedIn,
    CertificateIssued,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
    new_event,
)
from shared.http import Conflict, DomainError, NotFound
from shared.logging import get_logger
from shared.mongo import epoch
from shared.outbox import OutboxRelay, push_events, with_events

log = get_logger(__name__)
PRODUCER = "events"
CACHE_SECONDS = 1.0  # how stale an event's window and audience may be when a registration is checked
STALE_BATCH_SECONDS = 300.0  # a batch not written after this long belongs to a process that died


class AlreadyCancelled(Conflict):
    code, title = "registration-already-cancelled", "The registration is already cancelled"


class AlreadyCheckedIn(Conflict):
    code, title = "already-checked-in", "Already checked in"


class NotCheckable(Conflict):
    code, title = "ticket-not-valid", "This ticket cannot be checked in"


class UnknownSession(DomainError):
    status, code, title = 422, "unknown-session", "No such session"


class NotATraining(Conflict):
    code, title = "not-a-training", "Certificates are issued for completed trainings only"


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

    async def submit(self, event: dict[str, Any], item: Pending) -> tuple[dict[str, Any], bool]:
        self.waiting.setdefault(event["_id"], []).append(item)
        running = self.workers.setdefault(event["_id"], set())
        if len(running) < self.most:
            running.add(asyncio.create_task(self._work(event), name=f"registrations-{event['_id']}"))
        result = await asyncio.shield(item.answer)
        if isinstance(result, Exception):
            raise result
        return result

    async def _work(self, event: dict[str, Any]) -> None:
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


class Registrar:
    def __init__(
        self,
        db: AsyncDatabase,
        relay: OutboxRelay,
        links: Links,
        members: MemberProjection,
        orgs: OrganizationProjection,
    ) -> None:
        self.events = db[EVENTS]
        self.regs = db[REGISTRATIONS]
        self.ledger = SeatLedger(db)
        self.relay = relay
        self.links = links
        self.members = members
        self.orgs = orgs
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._batches = Batches(self._register_batch)
        self._reading: dict[str, asyncio.Future] = {}

    async def event(self, event_id: str) -> dict[str, Any]:
        doc = await self.events.find_one({"_id": event_id})
        if doc is None:
            raise NotFound("No event with this id", event_id=event_id)
        return doc

    async def registration(self, registration_id: str) -> dict[str, Any]:
        doc = await self.regs.find_one({"_id": registration_id})
        if doc is None:
            raise NotFound("No registration with this id", registration_id=registration_id)
        return doc

    # --- registering -----------------------------------------------------------------

    async def register(
        self, event_id: str, body: RegistrationIn, *, caller: str, idempotency: str | None, correlation_id: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Confirm or waitlist one person; returns (answer, replayed)."""
        idem = idempotency_key(event_id, caller, idempotency) if idempotency else None
        if idem and (replay := await self._replay(idem)) is not None:
            return replay, True
        event = await self.cached_event(event_id)
        ensure_registration_open(event, epoch())
        person = await self._person(event, body)
        keys = holder_keys(
            event_id, member_id=person.get("member_id"), email=person.get("email"), phone=person.get("phone")
        )
        # No duplicate lookup first: the unique keys refuse a second registration at the insert,
        # and the rare duplicate gives its place back.
        pending = Pending(keys=keys, person=person, idem=idem, caller=caller, correlation_id=correlation_id)
        return await self._batches.submit(event, pending)

    async def _register_batch(self, event: dict[str, Any], batch: list[Pending]) -> list[Any]:
        """Seat or queue everyone who arrived together, in arrival order: at most three atomic
        conditional updates of the event and one insert for the whole batch."""
        event_id, n = event["_id"], len(batch)
        cached = self._cache.get(event_id)
        event = cached[1] if cached is not None else event  # the freshest copy this process holds
        # Who the seats and places are for rides along with the ledger's updates: if this process
        # dies before the registrations are written, `heal` gives them back (see `settle`).
        ids = [uuid.uuid4().hex for _ in batch]
        intent = {"id": uuid.uuid4().hex[:16], "at": epoch(), "ids": ids}
        seats = await self._take_seats(event, n, intent)
        rest = n - seats
        queued = None
        if rest:
            queued = await self.ledger.join_waitlist(event_id, rest, intent)
            if queued is None:  # closed or cancelled meanwhile: nobody else gets in
                self.forget(event_id)
                closed = RegistrationNotOpen(text("not_open.status", status="closed"), reason="status")
                if seats:
                    await self.ledger.settle(event_id, intent["id"], lost_seats=seats)
                    await self.fill(event_id, None)
                return [closed] * n
            self._hint(event_id, queued)

        now = now_utc()
        about = summary(event, self.links)
        docs, answers = [], []
        for i, item in enumerate(batch):
            doc: dict[str, Any] = {
                "_id": ids[i],
                "event_id": event_id,
                **item.keys,
                **item.person,
                "created_at": to_text(now),
                "created_epoch": epoch(now),
                "registered_by": item.caller,
            }
            if item.idem:
                doc["idempotency"] = item.idem
            if i < seats:
                doc.update(status="confirmed", ticket_code=new_ticket_code(), confirmed_at=to_text(now))
                position = None
                announcement: Any = RegistrationConfirmed(
                    event=about,
                    registrant=registrant(doc),
                    ticket_code=doc["ticket_code"],
                    qr_url=self.links.qr(doc["ticket_code"]),
                    cancel_url=self.links.cancel(doc["_id"]),
                    calendar_url=self.links.calendar_for(doc),
                )
            else:
                # The batch joined the queue's end together: its members hold the last `rest` places.
                behind = n - 1 - i
                doc.update(status="waitlisted", wait_seq=queued["waitlist_seq"] - behind)
                position = queued["waiting"] - behind
                announcement = RegistrationWaitlisted(
                    event=about, registrant=registrant(doc), position=position, cancel_url=self.links.cancel(doc["_id"])
                )
            doc["first_answer"] = self.view(doc, position=position)
            envelope = new_event(announcement, producer=PRODUCER, correlation_id=item.correlation_id)
            docs.append(with_events(doc, envelope))
            answers.append((doc["first_answer"], False))

        refused: dict[int, Any] = {}
        try:
            await self.regs.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(e.get("code") != 11000 for e in errors):
                raise
            refused = {e["index"]: e for e in errors}
        if len(refused) < n:
            self.relay.notify()
        lost_seats = sum(1 for i in refused if i < seats)
        settled = await self.ledger.settle(
            event_id, intent["id"], lost_seats=lost_seats, lost_places=len(refused) - lost_seats
        )
        if not settled:
            log.error("registrations.batch_settled_by_another", event_id=event_id, batch=intent["id"])
        if refused:
            self.forget(event_id)
            if lost_seats:
                await self.fill(event_id, None)
            for i in refused:
                answers[i] = await self._duplicate_answer(batch[i])
        if queued is not None and queued.get("seats_free", 0) > 0:
            # Queued while a seat was free (others were waiting for it): make sure the seat moves.
            # A seat freed in the instant between queueing and writing is moved by `heal`.
            await self.fill(event_id, batch[0].correlation_id)
        return answers

    async def _take_seats(self, event: dict[str, Any], n: int, intent: dict[str, Any]) -> int:
        """As many of `n` seats as are free, while nobody waits: one conditional update for all,
        else one compare-and-set on the exact number left."""
        event_id = event["_id"]
        if event.get("seats_free", 0) <= 0 or event.get("waiting", 0) > 0:
            return 0  # full when last seen: straight to the queue (a seat freed since is moved by fill)
        after = await self.ledger.take_seat(event_id, n, batch=intent)
        if after is not None:
            self._hint(event_id, after)
            return n
        for _ in range(50):  # each miss means another batch took seats: this ends when they are gone
            now = await self.ledger.counters(event_id)
            if (
                now is None
                or now.get("status") != "published"
                or now.get("waiting", 0) > 0
                or now.get("seats_free", 0) <= 0
            ):
                if now is not None:
                    self._hint(event_id, now)
                return 0
            free = now["seats_free"]
            k = min(free, n)
            after = await self.ledger.take_seat(event_id, k, exactly=free, batch=intent)
            if after is not None:
                self._hint(event_id, after)
                return k
        return 0

    async def _duplicate_answer(self, item: Pending) -> Any:
        if item.idem and (replay := await self._replay(item.idem)) is not None:
            return replay, True  # whichever unique key fired, a retry with the same key gets the first answer
        try:
            await self._refuse_duplicate(item.keys)
        except DuplicateRegistration as exc:
            return exc
        return DuplicateRegistration("This person is already registered for this event")

    async def cached_event(self, event_id: str) -> dict[str, Any]:
        """The event as read at most CACHE_SECONDS ago. Seats never depend on it (the ledger's
        conditions do); it decides the registration window and audience, and which ledger
        update to try first."""
        now = time.monotonic()
        hit = self._cache.get(event_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        reading = self._reading.get(event_id)
        if reading is None:  # one read however many requests arrive at once
            reading = self._reading[event_id] = asyncio.ensure_future(self.event(event_id))
            reading.add_done_callback(lambda _: self._reading.pop(event_id, None))
        doc = await asyncio.shield(reading)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[event_id] = (now + CACHE_SECONDS, doc)
        return doc

    def forget(self, event_id: str) -> None:
        self._cache.pop(event_id, None)

    def _hint(self, event_id: str, counters: dict[str, Any]) -> None:
        hit = self._cache.get(event_id)
        if hit is not None:
            self._cache[event_id] = (
                hit[0],
                {**hit[1], **{k: counters[k] for k in ("seats_free", "waiting") if k in counters}},
            )

    async def heal(self, stale_after: float = STALE_BATCH_SECONDS) -> int:
        """Give back what batches of a process that died never wrote, and move seats left free
        while people wait (a seat freed in the instant someone joined the waiting list, or by a
        replica that stopped mid-way). Runs every few seconds on every replica."""
        for event_id, batch_id, intent in await self.ledger.stale_batches(epoch() - stale_after):
            ids = list(intent.get("ids") or [])
            seats, places = int(intent.get("seats") or 0), int(intent.get("places") or 0)
            written = {d["_id"] async for d in self.regs.find({"_id": {"$in": ids}}, {"_id": 1})}
            lost_seats = sum(1 for i in ids[:seats] if i not in written)
            lost_places = sum(1 for i in ids[seats : seats + places] if i not in written)
            if await self.ledger.settle(event_id, batch_id, lost_seats=lost_seats, lost_places=lost_places):
                self.forget(event_id)
                log.warning(
                    "registrations.unwritten_batch_released",
                    event_id=event_id,
                    batch=batch_id,
                    seats=lost_seats,
                    places=lost_places,
                )
        promoted = 0
        async for doc in self.events.find(
            {"status": {"$in": list(ACTIVE)}, "seats_free": {"$gt": 0}, "waiting": {"$gt": 0}}, {"_id": 1}
        ):
            promoted += len(await self.fill(doc["_id"], None))
        return promoted

    async def _replay(self, idem: str) -> dict[str, Any] | None:
        first = await self.regs.find_one({"idempotency": idem}, {"first_answer": 1})
        return first["first_answer"] if first is not None else None

    async def _person(self, event: dict[str, Any], body: RegistrationIn) -> dict[str, Any]:
        audience = event.get("audience") or {"kind": "public"}
        if body.guest is not None:
            check_audience(audience, None, guest=True)
            return {"kind": "guest", **body.guest.model_dump(exclude_none=True)}
        member = await self.members.get(body.member_id or "")
        if member is None or member.get("status") == "erased":
            raise UnknownMember("No member with this id is known to the events service yet", member_id=body.member_id)
        if audience.get("kind") == "organizations":
            tree: set[str] = set()
            for org_id in member.get("organization_ids") or []:
                tree.update(await self.orgs.ancestors(org_id))
            member = {**member, "organization_tree": sorted(tree)}
        check_audience(audience, member, guest=False)
        return {
            "kind": "member",
            "member_id": member["_id"],
            "full_name": member.get("full_name") or "",
            **{k: member[k] for k in ("email", "phone", "language") if member.get(k)},
        }

    async def _refuse_duplicate(self, keys: dict[str, str]) -> None:
        for key_field, value in keys.items():
            existing = await self.regs.find_one({key_field: value}, {"status": 1})
            if existing is not None:
                raise DuplicateRegistration(
                    "This person is already registered for this event",
                    field=key_field.removeprefix("holder_"),
                    registration_id=existing["_id"],
                    registration_status=existing["status"],
                )

    # --- the waiting list ---------------------------------------------------------------

    async def fill(self, event_id: str, correlation_id: str | None) -> list[str]:
        """Give every free seat to the head of the waiting list; returns who was promoted."""
        promoted: list[str] = []
        event: dict[str, Any] | None = None
        while True:
            if await self.ledger.seat_for_waitlisted(event_id) is None:
                return promoted
            head = await self.regs.find_one({"event_id": event_id, "status": "waitlisted"}, sort=[("wait_seq", 1)])
            if head is not None:
                event = event or await self.event(event_id)
                if await self._promote(head, event, correlation_id):
                    promoted.append(head["_id"])
                    continue
                await self.ledger.undo_seat_for_waitlisted(event_id)  # they left or moved meanwhile: next
                continue
            await self.ledger.undo_seat_for_waitlisted(event_id)
            # Someone counted as waiting has not written their registration yet; they fill when they do.
            if await self.regs.find_one({"event_id": event_id, "status": "waitlisted"}, {"_id": 1}) is None:
                return promoted

    async def _promote(self, reg: dict[str, Any], event: dict[str, Any], correlation_id: str | None) -> bool:
        now = now_utc()
        code = new_ticket_code()
        envelope = new_event(
            RegistrationPromoted(
                event=summary(event, self.links),
                registrant=registrant(reg),
                ticket_code=code,
                qr_url=self.links.qr(code),
                cancel_url=self.links.cancel(reg["_id"]),
                calendar_url=self.links.calendar_for(reg),
            ),
            producer=PRODUCER,
            correlation_id=correlation_id,
        )
        done = await self.regs.find_one_and_update(
            {"_id": reg["_id"], "status": "waitlisted"},
            push_events(
                {
                    "$set": {
                        "status": "confirmed",
                        "ticket_code": code,
                        "confirmed_at": to_text(now),
                        "promoted_at": to_text(now),
                    }
                },
                envelope,
            ),
            projection={"_id": 1},
        )
        if done is not None:
            self.relay.notify()
            log.info("registration.promoted", event_id=event["_id"], registration_id=reg["_id"])
        return done is not None

    async def position(self, reg: dict[str, Any]) -> int | None:
        if reg.get("status") != "waitlisted":
            return None
        ahead = await self.regs.count_documents(
            {"event_id": reg["event_id"], "status": "waitlisted", "wait_seq": {"$lt": reg["wait_seq"]}}
        )
        return ahead + 1

    # --- cancelling --------------------------------------------------------------------

    async def cancel(self, registration_id: str, *, by: str, correlation_id: str | None) -> dict[str, Any]:
        """Cancel once; a confirmed seat goes to the waiting list's head at once."""
        for _ in range(5):
            reg = await self.registration(registration_id)
            if reg["status"] == "cancelled":
                raise AlreadyCancelled(
                    text("already_cancelled", when=local_text(reg["cancelled_at"])),
                    cancelled_at=reg.get("cancelled_at"),
                    registration_id=registration_id,
                )
            event = await self.event(reg["event_id"])
            if event["status"] not in ACTIVE and event["status"] != "draft":
                raise EventFinished(f"The event is {event['status']}", event_status=event["status"])
            now = now_utc()
            envelope = new_event(
                RegistrationCancelled(event=summary(event, self.links), registrant=registrant(reg), cancelled_by=by),
                producer=PRODUCER,
                correlation_id=correlation_id,
            )
            done = await self.regs.find_one_and_update(
                {"_id": registration_id, "status": reg["status"]},
                push_events(
                    {
                        "$set": {
                            "status": "cancelled",
                            "cancelled_at": to_text(now),
                            "cancelled_by": by,
                            "status_before_cancel": reg["status"],
                        },
                        "$unset": {f: "" for f in HOLDER_FIELDS},
                    },
                    envelope,
                ),
                return_document=ReturnDocument.AFTER,
            )
            if done is None:
                continue  # promoted or cancelled meanwhile: look again
            self.relay.notify()
            self.forget(reg["event_id"])
            if reg["status"] == "confirmed":
                await self.ledger.give_back_seat(reg["event_id"])
                await self.fill(reg["event_id"], correlation_id)
            else:
                await self.ledger.leave_waitlist(reg["event_id"])
            return self.view(done)
        raise Conflict("The registration kept changing; try again")

    # --- at the door ---------------------------------------------------------------------

    async def check_in(
        self, code: str, session_id: str | None, *, by: str, correlation_id: str | None
    ) -> dict[str, Any]:
        ticket = normalise_code(code)
        reg = await self.regs.find_one({"ticket_code": ticket})
        if reg is None:
            raise NotFound("No ticket with this code", ticket_code=ticket)
        event = await self.event(reg["event_id"])
        now = now_utc()
        sid = session_id or current_session(event, epoch(now))
        if sid not in (event.get("sessions") or {}):
            raise UnknownSession(
                f"The event has no session {sid}", session_id=sid, sessions=sorted(event.get("sessions") or {})
            )
        self._checkable(reg, sid)
        envelope = new_event(
            AttendanceCheckedIn(
                event=summary(event, self.links),
                registrant=registrant(reg),
                ticket_code=ticket,
                session_id=sid,
                checked_in_at=now,
            ),
            producer=PRODUCER,
            correlation_id=correlation_id,
        )
        done = await self.regs.find_one_and_update(
            {"_id": reg["_id"], "status": "confirmed", f"checkins.{sid}": {"$exists": False}},
            push_events(
                {"$set": {f"checkins.{sid}": to_text(now), "attended": 1, f"checked_in_by.{sid}": by}}, envelope
            ),
            return_document=ReturnDocument.AFTER,
        )
        if done is None:
            self._checkable(await self.registration(reg["_id"]), sid)
            raise Conflict("The ticket changed meanwhile; scan again")
        self.relay.notify()
        return {
            "registration": self.view(done),
            "session_id": sid,
            "checked_in_at": to_text(now),
            "checked_in_at_local": local_text(now),
        }

    @staticmethod
    def _checkable(reg: dict[str, Any], sid: str) -> None:
        if reg["status"] != "confirmed":
            raise NotCheckable(text("not_confirmed", status=reg["status"]), registration_status=reg["status"])
        when = (reg.get("checkins") or {}).get(sid)
        if when:
            raise AlreadyCheckedIn(
                text("already_checked_in", when=local_text(when)),
                checked_in_at=when,
                session_id=sid,
                full_name=reg.get("full_name"),
            )

    # --- certificates -------------------------------------------------------------------

    async def issue_certificates(self, event_id: str, correlation_id: str | None) -> dict[str, int]:
        """A certificate for every member who attended a completed training (once each)."""
        event = await self.event(event_id)
        if event["kind"] != "training" or event["status"] != "completed":
            raise NotATraining(
                f"The event is a {event['kind']} and {event['status']}",
                kind=event["kind"],
                event_status=event["status"],
            )
        hours = float(event.get("training_hours") or round((event["last_end"] - event["first_start"]) / 3600, 1))
        issued = already = 0
        async for reg in self.regs.find({"event_id": event_id, "status": "confirmed"}):
            if not reg.get("member_id") or not reg.get("attended"):
                continue
            if reg.get("certificate_code"):
                already += 1
                continue
            code = new_certificate_code()
            now = now_utc()
            envelope = new_event(
                CertificateIssued(
                    event=summary(event, self.links),
                    registrant=registrant(reg),
                    certificate_code=code,
                    hours=hours,
                    verify_url=self.links.verify(code),
                    pdf_url=self.links.certificate_pdf(code),
                ),
                producer=PRODUCER,
                correlation_id=correlation_id,
            )
            done = await self.regs.update_one(
                {"_id": reg["_id"], "certificate_code": {"$exists": False}},
                push_events(
                    {
                        "$set": {
                            "certificate_code": code,
                            "certificate_hours": hours,
                            "certificate_issued_at": to_text(now),
                        }
                    },
                    envelope,
                ),
            )
            if done.modified_count:
                issued += 1
            else:
                already += 1
        if issued:
            self.relay.notify()
        return {"issued": issued, "already_issued": already}

    async def certificate(self, code: str) -> tuple[dict[str, Any], dict[str, Any]]:
        reg = await self.regs.find_one({"certificate_code": normalise_code(code)})
        if reg is None:
            raise NotFound("No certificate with this code", certificate_code=code)
        return reg, await self.event(reg["event_id"])

    # --- views --------------------------------------------------------------------------

    def view(self, reg: dict[str, Any], position: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": reg["_id"],
            "event_id": reg["event_id"],
            "status": reg["status"],
            "kind": reg.get("kind"),
            "member_id": reg.get("member_id"),
            "full_name": reg.get("full_name"),
            "email": reg.get("email"),
            "phone": reg.get("phone"),
            "language": reg.get("language") or "vi",
            "created_at": reg.get("created_at"),
            "ticket_code": reg.get("ticket_code"),
            "position": position,
            "checkins": reg.get("checkins") or {},
            "cancelled_at": reg.get("cancelled_at"),
            "cancelled_by": reg.get("cancelled_by"),
            "certificate_code": reg.get("certificate_code"),
        }
        if reg.get("ticket_code") and reg["status"] == "confirmed":
            out["qr_url"] = self.links.qr(reg["ticket_code"])
        if reg["status"] != "cancelled":
            out["cancel_url"] = self.links.cancel(reg["_id"])
        return out
