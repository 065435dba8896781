"""Events data in MongoDB: queries and writes on typed documents, nothing decided here.

Collections: events (with their seat counters), event_terms (title search: one document
per folded word prefix of an event's title, shared/search.py, written here with each
event write that changes them, new ones before the event, the replaced ones after it is
made, its own after it is refused, each write's stamped by the stamp it stores as the
event's `title_terms`), registrations,
reminders (due items, shared.scheduler), and the projections of members and organisations kept from
membership's events (projections.py).

The seat ledger is the heart: every seat moves with ONE atomic conditional update of
the event document (`find_one_and_update` on counters), never a read-then-write.
Counters on the event: `seats_free` (capacity minus confirmed), `confirmed`, `waiting`
(people on the waiting list) and `waitlist_seq` (the order people joined it in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.events.records import BatchIntent, EventDoc, RegistrationDoc
from shared.contracts import Envelope
from shared.mongo import IndexSpec, from_store, insert_unless_taken
from shared.outbox import push_events, with_events
from shared.scheduler import due_item_indexes
from shared.search import UNSTAMPED, Term, TermIndex, rewrite, rewrite_update, stamp_of, term_indexes, terms

EVENTS, REGISTRATIONS, EVENT_TERMS = "events", "registrations", "event_terms"
MEMBERS, ORGANIZATIONS = "members", "organizations"  # projections.py
REMINDERS = "reminders"  # due items (shared.scheduler)
INDEXES = [
    IndexSpec(EVENTS, [("first_start", 1)]),
    IndexSpec(EVENTS, [("organizer_id", 1)]),
    IndexSpec(EVENTS, [("title_words", 1)]),
    *term_indexes(EVENT_TERMS),
    IndexSpec(REGISTRATIONS, [("event_id", 1), ("status", 1), ("wait_seq", 1)], name="event_status_seq"),
    IndexSpec(REGISTRATIONS, [("holder_member", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("holder_email", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("holder_phone", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("idempotency", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("ticket_code", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("certificate_code", 1)], unique=True, sparse=True),
    IndexSpec(REGISTRATIONS, [("member_id", 1)]),
    IndexSpec(MEMBERS, [("status", 1)]),
    IndexSpec(ORGANIZATIONS, [("code_key", 1)]),
    IndexSpec(ORGANIZATIONS, [("parent_id", 1)]),
    *due_item_indexes(REMINDERS),
]
OUTBOX = [EVENTS, REGISTRATIONS, REMINDERS]
COUNTERS = {"seats_free": 1, "confirmed": 1, "waiting": 1, "waitlist_seq": 1, "capacity": 1, "status": 1}
Filter = Mapping[str, Any]
# An event's `title_terms`: the stamp its title terms were last written with (shared/search.py),
# or TITLE_TERMS once the start-up backfill wrote them from content alone; absent: none written yet.
STAMP, TITLE_TERMS = "title_terms", UNSTAMPED
TERM_FIELDS = ("title", "first_start", "organizer_id")


def event_terms(doc: Mapping[str, Any]) -> list[Term]:
    """The title search terms of an event: in listing order (first start, then id), reached
    through its organiser."""
    title = (doc.get("title") or {}).get("vi")
    if not title or doc.get("first_start") is None:
        return []
    order = f"{float(doc['first_start']):016.3f} {doc['_id']}"
    scope = [doc["organizer_id"]] if doc.get("organizer_id") else []
    return terms(doc["_id"], title, order, scope, stamp_of(doc.get(STAMP)))


def _doc(raw: Any) -> Any:
    """A stored document with its moments as datetimes, whichever store wrote them."""
    return None if raw is None else from_store(dict(raw))


class Events:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[EVENTS]
        self.terms = TermIndex(db[EVENT_TERMS])

    async def insert(self, doc: EventDoc) -> None:
        change = rewrite(event_terms, None, doc, STAMP)
        await self.terms.add(change.added)
        await self.collection.insert_one({**doc, STAMP: change.stamp})

    async def get(self, event_id: str) -> EventDoc | None:
        return _doc(await self.collection.find_one({"_id": event_id}, {"_outbox": 0}))

    async def page(self, match: Filter, *, offset: int, limit: int) -> list[EventDoc]:
        cursor = self.collection.find(dict(match), {"_outbox": 0}).sort("first_start", 1).skip(offset).limit(limit)
        return [_doc(d) async for d in cursor]

    async def search(
        self, text: str, match: Filter, *, offset: int, limit: int, scope: Iterable[str] | None
    ) -> list[EventDoc]:
        """Events whose title has words beginning with `text`'s words, in listing order, through
        the title terms; `match` (which checks the title words exactly) is applied to the events
        the terms name; `scope`: organisers an event must have (None: any)."""

        async def fetch(ids: list[str]) -> list[EventDoc]:  # in the terms' order: no sort in the store
            found = {d["_id"]: d async for d in self.collection.find({**match, "_id": {"$in": ids}}, {"_outbox": 0})}
            return [_doc(found[i]) for i in ids if i in found]

        found = await self.terms.search(text, fetch, limit=offset + limit, scope=scope)
        return found[offset:]

    async def by_ids(self, ids: list[str]) -> list[EventDoc]:
        return [_doc(d) async for d in self.collection.find({"_id": {"$in": ids}}, {"_outbox": 0})] if ids else []

    async def change(
        self, event_id: str, status: str, update: dict[str, Any], *envelopes: Envelope, before: EventDoc | None = None
    ) -> EventDoc | None:
        """Apply `update` if the event is still in `status` (compare-and-set); the events go with it.
        An update that may change the title, the first start or the organiser names the event as
        read (`before`), so its title terms follow."""
        change = None
        condition: dict[str, Any] = {"_id": event_id, "status": status}
        if before is not None:
            change = rewrite_update(event_terms, before, update, TERM_FIELDS, STAMP)
            update = change.stamped(update, STAMP)
            if change.stamp is not None:
                # Its terms are built from `before`: refused if another change of the terms
                # (a rename, a move of the first start) was made since it was read.
                held: Mapping[str, Any] = cast(Mapping[str, Any], before)
                condition[STAMP] = held[STAMP] if STAMP in held else {"$exists": False}
            await self.terms.add(change.added)
        done = _doc(
            await self.collection.find_one_and_update(
                condition,
                push_events(update, *envelopes) if envelopes else update,
                projection={"_outbox": 0},
                return_document=ReturnDocument.AFTER,
            )
        )
        if change is not None:
            await self.terms.drop(change.leftover(written=done is not None))
        return done

    async def announce(self, event_id: str, fields: dict[str, Any], *envelopes: Envelope) -> None:
        await self.collection.update_one({"_id": event_id}, push_events({"$set": fields}, *envelopes))

    async def set_fields(self, event_id: str, fields: dict[str, Any]) -> None:
        await self.collection.update_one({"_id": event_id}, {"$set": fields})

    async def titles_unindexed(self, limit: int = 1000) -> list[EventDoc]:
        """Events stored before titles were indexed for search (their words or their terms)."""
        query = {"$or": [{"title_words": {"$exists": False}}, {"title_terms": {"$exists": False}}]}
        fields = {"title": 1, "first_start": 1, "organizer_id": 1, STAMP: 1}
        return [_doc(d) async for d in self.collection.find(query, fields).limit(limit)]

    async def index_title(self, doc: EventDoc, title_words: list[str]) -> None:
        """Write the title terms of an event stored before them (ids from content alone, unless a
        write stamped them), then its words and mark (unless a write stamped its terms meanwhile:
        its terms are the ones to keep)."""
        await self.terms.add(event_terms(doc))
        await self.set_fields(doc["_id"], {"title_words": title_words})
        unmarked = {"_id": doc["_id"], STAMP: {"$exists": False}}
        await self.collection.update_one(unmarked, {"$set": {STAMP: TITLE_TERMS}})


class SeatLedger:
    """Seats and the waiting list, each move one atomic conditional update."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.events = db[EVENTS]

    async def _move(self, match: dict[str, Any], update: dict[str, Any]) -> dict[str, Any] | None:
        return await self.events.find_one_and_update(
            match, update, projection=COUNTERS, return_document=ReturnDocument.AFTER
        )

    async def take_seat(
        self,
        event_id: str,
        count: int = 1,
        *,
        exactly: int | None = None,
        batch: BatchIntent | None = None,
        settled: Sequence[str] = (),
    ) -> dict[str, Any] | None:
        """`count` seats for newcomers, only while nobody is waiting (the queue is fair): all
        of them or none. `exactly`: only if that many are free (compare-and-set). `batch`
        records, in the same write, who the seats are for (see `settle`); `settled` forgets,
        in the same write too, intents of earlier batches written in full."""
        free: Any = exactly if exactly is not None else {"$gte": count}
        update: dict[str, Any] = {"$inc": {"seats_free": -count, "confirmed": count}}
        _record(update, batch, "seats", count, settled)
        return await self._move({"_id": event_id, "status": "published", "seats_free": free, "waiting": 0}, update)

    async def join_waitlist(
        self, event_id: str, count: int = 1, batch: BatchIntent | None = None, settled: Sequence[str] = ()
    ) -> dict[str, Any] | None:
        """Places at the end of the waiting list; `waiting` after it is the last newcomer's position."""
        update: dict[str, Any] = {"$inc": {"waiting": count, "waitlist_seq": count}}
        _record(update, batch, "places", count, settled)
        return await self._move({"_id": event_id, "status": "published"}, update)

    async def renew(self, event_id: str, batch_key: str, lease: float) -> bool:
        """The batch's process is alive: it vouches for its seats until `lease`."""
        done = await self.events.update_one(
            {"_id": event_id, f"pending.{batch_key}": {"$exists": True}},
            {"$set": {f"pending.{batch_key}.lease": lease}},
        )
        return done.modified_count == 1

    async def settle(self, event_id: str, batch_key: str, *, lost_seats: int = 0, lost_places: int = 0) -> bool:
        """The batch's registrations are written (or known lost): forget its intent and give back
        what was not used, in one write that only one caller can make."""
        update: dict[str, Any] = {"$unset": {f"pending.{batch_key}": ""}}
        inc = {
            k: v for k, v in (("seats_free", lost_seats), ("confirmed", -lost_seats), ("waiting", -lost_places)) if v
        }
        if inc:
            update["$inc"] = inc
        result = await self.events.update_one({"_id": event_id, f"pending.{batch_key}": {"$exists": True}}, update)
        return result.modified_count == 1

    async def to_heal(self, statuses: list[str]) -> list[dict[str, Any]]:
        """In one read, events with batch intents not forgotten yet or seats free while people
        wait: their id, `pending` map and counters."""
        wanted = {"$or": [{"pending": {"$exists": True}}, {"seats_free": {"$gt": 0}, "waiting": {"$gt": 0}}]}
        match = {"$and": [{"status": {"$in": statuses}}, wanted]}
        return [d async for d in self.events.find(match, {"pending": 1, "seats_free": 1, "waiting": 1})]

    async def seat_for_waitlisted(self, event_id: str, statuses: list[str]) -> dict[str, Any] | None:
        """Move a free seat to the waiting list's head (who exactly is settled next)."""
        return await self._move(
            {"_id": event_id, "status": {"$in": statuses}, "seats_free": {"$gt": 0}, "waiting": {"$gt": 0}},
            {"$inc": {"seats_free": -1, "confirmed": 1, "waiting": -1}},
        )

    async def undo_seat_for_waitlisted(self, event_id: str) -> None:
        await self.events.update_one({"_id": event_id}, {"$inc": {"seats_free": 1, "confirmed": -1, "waiting": 1}})

    async def give_back_seat(self, event_id: str, count: int = 1) -> None:
        await self.events.update_one({"_id": event_id}, {"$inc": {"seats_free": count, "confirmed": -count}})

    async def leave_waitlist(self, event_id: str, count: int = 1) -> None:
        await self.events.update_one({"_id": event_id}, {"$inc": {"waiting": -count}})

    async def set_capacity(self, event_id: str, old: int, new: int) -> dict[str, Any] | None:
        """Change capacity unless it would fall below the seats already confirmed."""
        delta = new - old
        condition: dict[str, Any] = {"_id": event_id, "capacity": old}
        if delta < 0:
            condition["seats_free"] = {"$gte": -delta}
        return await self._move(condition, {"$set": {"capacity": new}, "$inc": {"seats_free": delta}})

    async def counters(self, event_id: str) -> dict[str, Any] | None:
        return await self.events.find_one({"_id": event_id}, COUNTERS)


def _record(update: dict[str, Any], batch: BatchIntent | None, what: str, count: int, settled: Sequence[str]) -> None:
    if batch:
        update["$set"] = {**_intent(batch), f"pending.{batch['key']}.{what}": count}
    if settled:
        update["$unset"] = {f"pending.{key}": "" for key in settled}


def _intent(batch: BatchIntent) -> dict[str, Any]:
    key = batch["key"]
    return {
        f"pending.{key}.at": batch["at"],
        f"pending.{key}.lease": batch["lease"],
        f"pending.{key}.ids": batch["ids"],
    }


MEMBER_AS_OF_TS = "member_as_of_ts"  # the member event a registration's contact is as of (follow_member)


class Registrations:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[REGISTRATIONS]

    async def insert_all(self, docs: list[RegistrationDoc], envelopes: list[Envelope]) -> set[int]:
        """Write every registration with its announcement; the indexes refused as duplicates."""
        return await insert_unless_taken(
            self.collection, [with_events(dict(d), e) for d, e in zip(docs, envelopes, strict=True)]
        )

    async def get(self, registration_id: str) -> RegistrationDoc | None:
        return _doc(await self.collection.find_one({"_id": registration_id}, {"_outbox": 0}))

    async def one(self, match: Filter, fields: Mapping[str, int] | None = None) -> RegistrationDoc | None:
        """One registration by a unique key (ticket, certificate, holder, idempotency)."""
        return _doc(await self.collection.find_one(dict(match), dict(fields) if fields else {"_outbox": 0}))

    async def page(self, match: Filter, *, order: str, offset: int = 0, limit: int = 0) -> list[RegistrationDoc]:
        cursor = self.collection.find(dict(match), {"_outbox": 0}).sort(order, 1).skip(offset).limit(limit)
        return [_doc(d) async for d in cursor]

    async def count(self, match: Filter) -> int:
        return await self.collection.count_documents(dict(match))

    async def written(self, ids: list[str]) -> set[str]:
        return {d["_id"] async for d in self.collection.find({"_id": {"$in": ids}}, {"_id": 1})}

    async def waitlist_head(self, event_id: str) -> RegistrationDoc | None:
        return _doc(
            await self.collection.find_one(
                {"event_id": event_id, "status": "waitlisted"}, {"_outbox": 0}, sort=[("wait_seq", 1)]
            )
        )

    async def change(
        self, match: Filter, update: dict[str, Any], *envelopes: Envelope, fields: Mapping[str, int] | None = None
    ) -> RegistrationDoc | None:
        """A conditional change of one registration (with the events it announces); None if
        the condition no longer holds."""
        return _doc(
            await self.collection.find_one_and_update(
                dict(match),
                push_events(update, *envelopes) if envelopes else update,
                projection=dict(fields) if fields else {"_outbox": 0},
                return_document=ReturnDocument.AFTER,
            )
        )

    async def change_all(self, match: Filter, update: dict[str, Any]) -> int:
        return (await self.collection.update_many(dict(match), update)).modified_count

    async def follow_member(self, member_id: str, update: dict[str, Any], at: float) -> None:
        """Set a member's contact on their registrations as of the member event's time `at`
        (epoch), newest wins: two changes of one member handled at once (a consumer holds
        several messages) would otherwise leave whichever wrote last, maybe the older.
        Two writes, since a registration made before this was kept has no time yet (and
        `$or` beside other fields is a collection scan on the embedded store)."""
        stamped = {**update, "$set": {**update.get("$set", {}), MEMBER_AS_OF_TS: at}}
        mine = {"member_id": member_id, "erased": {"$exists": False}}
        await self.collection.update_many({**mine, MEMBER_AS_OF_TS: {"$lte": at}}, stamped)
        await self.collection.update_many({**mine, MEMBER_AS_OF_TS: {"$exists": False}}, stamped)
