"""The events desk: create, show, change and move events through their lifecycle,
with managers limited to events organised within their organisation's subtree."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from services.events.announcements import Links, registrant, summary
from services.events.catalogue import text
from services.events.clock import from_text, local_iso, now_utc, to_text
from services.events.programme import (
    ACTIVE,
    EventIn,
    EventPatch,
    SessionIn,
    check_hours,
    check_place,
    check_window,
    ensure_editable,
    next_status,
    ordered_sessions,
    registration_open,
    session_docs,
    timing_fields,
    window_fields,
)
from services.events.registrar import Registrar
from services.events.reminders import Reminders
from services.events.store import EVENTS, REGISTRATIONS, OrganizationProjection
from shared.contracts import EventCancelled, EventPublished, EventUpdated, new_event
from shared.http import Conflict, DomainError, NotFound, validation_problem
from shared.identity import Identity
from shared.mongo import epoch
from shared.outbox import OutboxRelay, push_events

PRODUCER = "events"


class UnknownOrganization(DomainError):
    status, code, title = 422, "unknown-organization", "No such organisation"

    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            f"No organisation with id or code {value!r} is known to the events service",
            errors=[
                {
                    "field": field,
                    "in": "body",
                    "code": "unknown_organization",
                    "message": f"no organisation with id or code {value!r}",
                }
            ],
        )


class OutsideYourOrganization(DomainError):
    status, code, title = 403, "outside-your-organization", "The event is organised outside your organisation"


class CapacityBelowConfirmed(Conflict):
    code, title = "capacity-below-confirmed", "Capacity cannot fall below the seats already confirmed"


class EventDesk:
    def __init__(
        self,
        db: AsyncDatabase,
        relay: OutboxRelay,
        links: Links,
        orgs: OrganizationProjection,
        registrar: Registrar,
        reminders: Reminders,
    ) -> None:
        self.events = db[EVENTS]
        self.regs = db[REGISTRATIONS]
        self.relay = relay
        self.links = links
        self.orgs = orgs
        self.registrar = registrar
        self.reminders = reminders

    # --- who may --------------------------------------------------------------------

    async def authorise(self, who: Identity, organizer_id: str) -> None:
        """Admins: every event; managers: events organised within their subtree; partner keys: by scope."""
        if "admin" in who.roles or "manager" not in who.roles:
            return
        if not who.organization_id or who.organization_id not in await self.orgs.ancestors(organizer_id):
            raise OutsideYourOrganization(
                "You manage events of your own organisation and those below it",
                organizer_id=organizer_id,
                your_organization_id=who.organization_id,
            )

    async def load(self, event_id: str, who: Identity, *, change: bool = False) -> dict[str, Any]:
        doc = await self.events.find_one({"_id": event_id})
        staff = "admin" in who.roles or "manager" in who.roles
        if doc is None or (doc["status"] == "draft" and not staff):
            raise NotFound("No event with this id", event_id=event_id)
        if change or "manager" in who.roles:
            await self.authorise(who, doc["organizer_id"])
        return doc

    # --- create, show, change ---------------------------------------------------------

    async def create(self, body: EventIn, who: Identity) -> dict[str, Any]:
        organizer = await self._org("organizer", body.organizer)
        await self.authorise(who, organizer["_id"])
        co = [(await self._org(f"co_organizers.{i}", ref))["_id"] for i, ref in enumerate(body.co_organizers or [])]
        audience = await self._audience(body.audience.model_dump())
        sessions = session_docs(body.sessions)
        now = now_utc()
        doc = {
            "_id": uuid.uuid4().hex,
            "kind": body.kind,
            "title": body.title.model_dump(),
            "description": body.description.model_dump() if body.description else None,
            "organizer_id": organizer["_id"],
            "organizer_name": organizer.get("name"),  # as messages name it
            "co_organizer_ids": co,
            "venue": body.venue,
            "online_url": str(body.online_url) if body.online_url else None,
            "sessions": sessions,
            **timing_fields(sessions),
            **window_fields(body.registration_opens_at, body.registration_closes_at),
            "capacity": body.capacity,
            "seats_free": body.capacity,
            "confirmed": 0,
            "waiting": 0,
            "waitlist_seq": 0,
            "audience": audience,
            "training_hours": body.training_hours,
            "status": "draft",
            "created_at": to_text(now),
            "created_by": who.sub,
            "updated_at": to_text(now),
        }
        await self.events.insert_one(doc)  # drafts are not announced
        return await self.view(doc)

    async def update(
        self, event_id: str, patch: EventPatch, who: Identity, correlation_id: str | None
    ) -> dict[str, Any]:
        doc = await self.load(event_id, who, change=True)
        ensure_editable(doc["status"])
        given = patch.model_dump(exclude_unset=True)
        changes: dict[str, Any] = {}
        if "title" in given:
            changes["title"] = patch.title.model_dump() if patch.title else None
        if "description" in given:
            changes["description"] = patch.description.model_dump() if patch.description else None
        if "co_organizers" in given:
            changes["co_organizer_ids"] = [
                (await self._org(f"co_organizers.{i}", ref))["_id"] for i, ref in enumerate(patch.co_organizers or [])
            ]
        if "venue" in given:
            changes["venue"] = patch.venue
        if "online_url" in given:
            changes["online_url"] = str(patch.online_url) if patch.online_url else None
        if "sessions" in given and patch.sessions:
            changes["sessions"] = session_docs(patch.sessions)
            changes.update(timing_fields(changes["sessions"]))
        if "registration_opens_at" in given or "registration_closes_at" in given:
            opens = (
                patch.registration_opens_at if "registration_opens_at" in given else _dt(doc, "registration_opens_at")
            )
            closes = (
                patch.registration_closes_at
                if "registration_closes_at" in given
                else _dt(doc, "registration_closes_at")
            )
            changes.update(window_fields(opens, closes))
        if "audience" in given and patch.audience:
            changes["audience"] = await self._audience(patch.audience.model_dump())
        if "training_hours" in given:
            changes["training_hours"] = patch.training_hours
        if "title" in changes and changes["title"] is None:
            _invalid("title", "the Vietnamese title is required")
        merged = {**doc, **changes}
        try:
            check_place(merged.get("venue"), merged.get("online_url"))
            check_hours(merged["kind"], merged.get("training_hours"))
            check_window(
                _dt(merged, "registration_opens_at"),
                _dt(merged, "registration_closes_at"),
                [SessionIn(starts_at=s["starts_at"], ends_at=s["ends_at"]) for s in merged["sessions"].values()],
            )
        except ValueError as exc:
            _invalid("body", str(exc))
        if not changes:
            return await self.view(doc)
        changes["updated_at"] = to_text(now_utc())
        update: dict[str, Any] = {"$set": changes}
        if "sessions" in changes:
            update["$unset"] = {f"sessions.{sid}": "" for sid in doc["sessions"] if sid not in changes["sessions"]}
            update["$set"] = {k: v for k, v in changes.items() if k != "sessions"}
            update["$set"].update({f"sessions.{sid}": s for sid, s in changes["sessions"].items()})
            if not update["$unset"]:
                del update["$unset"]
        if doc["status"] != "draft":
            changed = sorted(k for k in given)
            update = push_events(
                update,
                new_event(
                    EventUpdated(event=summary(merged, self.links), changed=changed),
                    producer=PRODUCER,
                    correlation_id=correlation_id,
                ),
            )
        done = await self.events.find_one_and_update(
            {"_id": event_id, "status": doc["status"]}, update, return_document=ReturnDocument.AFTER
        )
        self.registrar.forget(event_id)
        if done is None:
            raise Conflict("The event changed meanwhile; load it again")
        self.relay.notify()
        if "sessions" in changes and done["status"] in ACTIVE:
            await self.reminders.plan(done)
        return await self.view(done)

    # --- lifecycle ----------------------------------------------------------------------

    async def transition(
        self, event_id: str, action: str, who: Identity, correlation_id: str | None, reason: str | None = None
    ) -> dict[str, Any]:
        doc = await self.load(event_id, who, change=True)
        target = next_status(doc["status"], action)
        now = to_text(now_utc())
        update: dict[str, Any] = {"$set": {"status": target, "updated_at": now, f"{target}_at": now}}
        if action == "cancel":
            return await self._cancel(doc, update, reason, correlation_id)
        if action == "publish":
            if doc["last_end"] <= epoch():
                raise Conflict("The event is already over", ends_at=doc["ends_at"])
            data: Any = EventPublished(event=summary(doc, self.links), capacity=doc["capacity"])
        else:
            data = EventUpdated(event=summary(doc, self.links), changed=["status"])
        done = await self.events.find_one_and_update(
            {"_id": event_id, "status": doc["status"]},
            push_events(update, new_event(data, producer=PRODUCER, correlation_id=correlation_id)),
            return_document=ReturnDocument.AFTER,
        )
        self.registrar.forget(event_id)
        if done is None:
            raise Conflict("The event changed meanwhile; load it again")
        self.relay.notify()
        if action == "publish":
            await self.reminders.plan(done)
        elif action == "complete":
            await self.reminders.drop(done)
        return await self.view(done)

    async def _cancel(
        self, doc: dict[str, Any], update: dict[str, Any], reason: str | None, correlation_id: str | None
    ) -> dict[str, Any]:
        update["$set"]["cancel_reason"] = reason
        # First stop every seat from moving, then tell everyone who held one.
        done = await self.events.find_one_and_update(
            {"_id": doc["_id"], "status": doc["status"]}, update, return_document=ReturnDocument.AFTER
        )
        self.registrar.forget(doc["_id"])
        if done is None:
            raise Conflict("The event changed meanwhile; load it again")
        await self.reminders.drop(done)
        active = {"event_id": doc["_id"], "status": {"$in": ["confirmed", "waitlisted"]}}
        people = [registrant(r) async for r in self.regs.find(active)]
        await self.regs.update_many(
            active,
            {
                "$set": {
                    "status": "cancelled",
                    "cancelled_by": "event_cancelled",
                    "cancelled_at": update["$set"]["updated_at"],
                },
                "$unset": {"holder_member": "", "holder_email": "", "holder_phone": ""},
            },
        )
        announcement = new_event(
            EventCancelled(event=summary(doc, self.links), reason=reason, registrants=people),
            producer=PRODUCER,
            correlation_id=correlation_id,
        )
        await self.events.update_one({"_id": doc["_id"]}, push_events({"$set": {"cancel_announced": 1}}, announcement))
        self.relay.notify()
        return await self.view(await self.events.find_one({"_id": doc["_id"]}))

    async def set_capacity(
        self, event_id: str, capacity: int, who: Identity, correlation_id: str | None
    ) -> dict[str, Any]:
        """Raising capacity promotes from the waiting list at once; lowering it never
        un-confirms anyone: below the confirmed count it is refused."""
        for _ in range(5):
            doc = await self.load(event_id, who, change=True)
            ensure_editable(doc["status"])
            after = await self.registrar.ledger.set_capacity(event_id, doc["capacity"], capacity)
            self.registrar.forget(event_id)
            if after is not None:
                break
            fresh = await self.events.find_one({"_id": event_id}, {"capacity": 1, "confirmed": 1})
            if fresh["capacity"] == doc["capacity"] and capacity < fresh["confirmed"]:
                raise CapacityBelowConfirmed(
                    f"{fresh['confirmed']} people hold confirmed seats; cancel registrations first",
                    confirmed=fresh["confirmed"],
                    requested=capacity,
                )
        else:
            raise Conflict("The event kept changing; try again")
        if doc["status"] != "draft":
            await self.events.update_one(
                {"_id": event_id},
                push_events(
                    {"$set": {"updated_at": to_text(now_utc())}},
                    new_event(
                        EventUpdated(event=summary(doc, self.links), changed=["capacity"]),
                        producer=PRODUCER,
                        correlation_id=correlation_id,
                    ),
                ),
            )
            self.relay.notify()
        if capacity > doc["capacity"]:
            await self.registrar.fill(event_id, correlation_id)
        return await self.view(await self.events.find_one({"_id": event_id}))

    # --- reading ----------------------------------------------------------------------

    async def list(
        self,
        who: Identity,
        *,
        status: str | None,
        kind: str | None,
        organizer: str | None,
        upcoming: bool,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        staff = "admin" in who.roles or "manager" in who.roles
        visible = (
            ["draft", "published", "registration_closed", "completed", "cancelled"]
            if staff
            else ["published", "registration_closed", "completed", "cancelled"]
        )
        query["status"] = {"$in": [s for s in visible if s == status] if status else visible}
        if kind:
            query["kind"] = kind
        organizers: list[str] | None = None
        if "manager" in who.roles and "admin" not in who.roles:
            organizers = await self.orgs.subtree(who.organization_id) if who.organization_id else []
        if organizer:
            found = await self.orgs.resolve(organizer)
            wanted = [found["_id"]] if found else []
            organizers = wanted if organizers is None else [o for o in wanted if o in organizers]
        if organizers is not None:
            query["organizer_id"] = {"$in": organizers}
        if upcoming:
            query["last_end"] = {"$gte": epoch()}
        docs = await self.events.find(query).sort("first_start", 1).skip(offset).limit(limit).to_list()
        names = await self.orgs.names([d["organizer_id"] for d in docs])
        return [await self.view(d, names) for d in docs]

    async def view(self, doc: dict[str, Any], names: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        ids = [doc["organizer_id"], *(doc.get("co_organizer_ids") or [])]
        if names is None or any(i not in names for i in ids):
            names = {**(names or {}), **await self.orgs.names(ids)}

        def org(org_id: str) -> dict[str, Any]:
            found = names.get(org_id) or {}
            return {"id": org_id, "code": found.get("code"), "name": found.get("name")}

        return {
            "id": doc["_id"],
            "kind": doc["kind"],
            "kind_label": text(f"kind.{doc['kind']}"),
            "title": doc["title"],
            "description": doc.get("description"),
            "organizer": org(doc["organizer_id"]),
            "co_organizers": [org(o) for o in doc.get("co_organizer_ids") or []],
            "venue": doc.get("venue"),
            "online_url": doc.get("online_url"),
            "sessions": [
                {
                    "id": sid,
                    "title": s.get("title"),
                    "room": s.get("room"),
                    "starts_at": s["starts_at"],
                    "ends_at": s["ends_at"],
                    "starts_at_local": local_iso(s["starts_at"]),
                    "ends_at_local": local_iso(s["ends_at"]),
                }
                for sid, s in ordered_sessions(doc)
            ],
            "starts_at": doc["starts_at"],
            "ends_at": doc["ends_at"],
            "timezone": "Asia/Ho_Chi_Minh",
            "capacity": doc["capacity"],
            "confirmed": doc.get("confirmed", 0),
            "waiting": doc.get("waiting", 0),
            "seats_free": doc.get("seats_free", 0),
            "registration_opens_at": doc.get("registration_opens_at"),
            "registration_closes_at": doc.get("registration_closes_at"),
            "registration_open": registration_open(doc, epoch()),
            "audience": doc.get("audience") or {"kind": "public", "organization_ids": []},
            "training_hours": doc.get("training_hours"),
            "status": doc["status"],
            "cancel_reason": doc.get("cancel_reason"),
            "created_at": doc.get("created_at"),
            "created_by": doc.get("created_by"),
            "updated_at": doc.get("updated_at"),
        }

    # --- helpers ----------------------------------------------------------------------

    async def _org(self, field: str, ref: str) -> dict[str, Any]:
        found = await self.orgs.resolve(ref)
        if found is None:
            raise UnknownOrganization(field, ref)
        return found

    async def _audience(self, audience: dict[str, Any]) -> dict[str, Any]:
        ids = [
            (await self._org(f"audience.organization_ids.{i}", ref))["_id"]
            for i, ref in enumerate(audience.get("organization_ids") or [])
        ]
        return {"kind": audience["kind"], "organization_ids": ids}


def _dt(doc: dict[str, Any], field: str) -> Any:
    value = doc.get(field)
    return from_text(value) if value else None


def _invalid(field: str, message: str) -> None:
    try:
        raise ValidationError.from_exception_data(
            "EventPatch", [{"type": "value_error", "loc": (field,), "input": None, "ctx": {"error": message}}]
        )
    except ValidationError as exc:
        raise validation_problem(exc) from None
