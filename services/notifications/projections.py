"""What notifications keeps of other services' data, from their events: contacts
(members and their consents), everyone's preferences, organisations and registrations
(to choose campaign segments). Queries and writes only.

The projections are newest-wins (shared/projection.py): each write is filtered on the
event's time, so a redelivered event writes the same values again and an older one
arriving late changes nothing. That makes their subscriptions idempotent on the bus.
An erasure stamps the document with the end of time, so nothing announced later
brings the person's data back.

Preferences live on the person's document in `contacts` (a member's contact; for a
guest or an address a document holding only `preferences`), so planning reads a
person's contact, consents and choices with one query. Such a bare document has no
`status`, so no campaign segment selects it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase

from services.notifications.records import ContactDoc, OrganizationDoc, PreferencesDoc, RegistrationDoc
from shared.batching import GroupWrite
from shared.clock import now_utc
from shared.contracts import MemberContact
from shared.projection import AS_OF_TS, Applied, NewestWins

CONTACTS = "contacts"
ORGANIZATIONS = "organizations"
REGISTRATIONS = "registrations"
LEGACY_PREFERENCES = "preferences"  # where preferences were kept before they moved onto the contact
PREFERENCES = "preferences"  # the field of a contacts document
PREFERENCE_KEYS = ("service", "announcement", "zalo")
# What erasure removes from a contact (the id and the "erased" mark stay).
ERASING = "erasing_addresses"  # kept by an erasure under way (mark_erased)
PERSONAL_CONTACT = (
    "full_name",
    "email",
    "phone",
    "date_of_birth",
    "expertise",
    "organization_ids",
    "consents",
    PREFERENCES,
)
# The event time an erased document claims: later than any event, so none overwrites it.
ERASED_AS_OF_TS = 253402300799.0  # 9999-12-31T23:59:59Z


class ContactStore:
    """Members as notifications needs them, from member.* events, and everyone's preferences."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.contacts = db[CONTACTS]
        self.legacy_preferences = db[LEGACY_PREFERENCES]
        self.projection = NewestWins(self.contacts)
        self._people: GroupWrite[list[str], dict[str, ContactDoc]] = GroupWrite(self._read_people)

    async def prepare(self) -> None:
        """Bring documents kept by an earlier version up to date (at start-up; cheap once
        done): erased contacts claim the end of time, and preferences kept in their own
        collection move onto the person's contact document."""
        await self.contacts.update_many(
            {"erased": {"$exists": True}, AS_OF_TS: {"$exists": False}}, {"$set": {AS_OF_TS: ERASED_AS_OF_TS}}
        )
        async for doc in self.legacy_preferences.find({}):
            await self.set_preferences(doc["_id"], {k: v for k, v in doc.items() if k in PREFERENCE_KEYS})
            await self.legacy_preferences.delete_one({"_id": doc["_id"]})

    async def upsert(
        self, contact: MemberContact, event_time: datetime, extra: dict[str, Any] | None = None
    ) -> Applied:
        """Keep the newest contact data: an older event arriving late changes nothing, nor
        does any event after an erasure (shared/projection.py). `new`: nothing was kept
        of this person before (no preferences, no erasure)."""
        doc = contact.model_dump(mode="json", exclude={"member_id", "reviewer_emails", "expertise"})
        doc["consents"] = {
            "email": "yes" if contact.consents.email else "no",
            "sms": "yes" if contact.consents.sms else "no",
        }
        doc.update(extra or {})
        return await self.projection.apply(contact.member_id, {"$set": doc}, event_time)

    async def get(self, member_id: str) -> ContactDoc | None:
        return cast(ContactDoc | None, await self.contacts.find_one({"_id": member_id}))

    async def many(self, member_ids: list[str], fields: Mapping[str, int] | None = None) -> dict[str, ContactDoc]:
        if not member_ids:
            return {}
        return {d["_id"]: cast(ContactDoc, d) async for d in self.contacts.find({"_id": {"$in": member_ids}}, fields)}

    async def people(self, ids: list[str]) -> dict[str, ContactDoc]:
        """The documents of these people (contact, preferences), whole. The reads of one
        turn of the event loop (a consumer's concurrent events) go as one query."""
        return await self._people.submit(ids) if ids else {}

    async def _read_people(self, requests: list[list[str]]) -> list[dict[str, ContactDoc]]:
        found = await self.many(sorted({i for ids in requests for i in ids}))
        return [{i: found[i] for i in ids if i in found} for ids in requests]

    async def erased_among(self, member_ids: list[str]) -> list[str]:
        if not member_ids:
            return []
        cursor = self.contacts.find({"_id": {"$in": member_ids}, "erased": {"$exists": True}}, {"_id": 1})
        return [d["_id"] async for d in cursor]

    async def segment(self, query: dict[str, Any]) -> list[str]:
        """The ids of active, unerased contacts matching a segment's conditions, sorted."""
        full = {"erased": {"$exists": False}, "status": "active", **query}
        return sorted([d["_id"] async for d in self.contacts.find(full, {"_id": 1})])

    async def mark_erased(self, member_id: str, addresses: Iterable[str]) -> None:
        """An erasure's first step: the contact is erased for every reader from now on
        (planners scrub what they planned), and keeps the addresses found everywhere
        (`ERASING`) until `erase` ends it, so a retry after a failure part-way still
        knows which records keyed by an address to forget."""
        await self.contacts.update_one(
            {"_id": member_id},
            {"$set": {"erased": "yes", "as_of": now_utc(), AS_OF_TS: ERASED_AS_OF_TS, ERASING: sorted(addresses)}},
            upsert=True,
        )

    async def erase(self, member_id: str) -> None:
        """An erasure's last step: nothing personal is left on the contact."""
        await self.contacts.update_one(
            {"_id": member_id},
            {
                "$set": {"erased": "yes", "as_of": now_utc(), AS_OF_TS: ERASED_AS_OF_TS},
                "$unset": {field: "" for field in (*PERSONAL_CONTACT, ERASING)},
            },
            upsert=True,
        )

    async def get_preferences(self, recipient_id: str) -> dict[str, Any] | None:
        doc = await self.contacts.find_one({"_id": recipient_id}, {PREFERENCES: 1})
        return preferences_of(cast(ContactDoc | None, doc))

    async def set_preferences(self, recipient_id: str, prefs: Mapping[str, Any]) -> None:
        # Booleans written by $set read back as 1/0 on the embedded store; bool() restores them.
        fields = {
            f"{PREFERENCES}.{cat}.{ch}": on
            for cat, channels in prefs.items()
            if isinstance(channels, Mapping)
            for ch, on in channels.items()
        }
        fields.update({f"{PREFERENCES}.{k}": v for k, v in prefs.items() if not isinstance(v, Mapping)})
        await self.contacts.update_one(
            {"_id": recipient_id}, {"$set": fields | {f"{PREFERENCES}.updated_at": now_utc()}}, upsert=True
        )


def preferences_of(doc: ContactDoc | None) -> dict[str, Any] | None:
    """The preferences a contacts document holds (None: never chosen)."""
    stored: PreferencesDoc | None = doc.get("preferences") if doc is not None else None
    return None if not stored else {k: v for k, v in stored.items() if k in PREFERENCE_KEYS}


class DirectoryStore:
    """Organisations and registrations, kept (newest wins) from events to choose campaign segments."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.organizations = db[ORGANIZATIONS]
        self.registrations = db[REGISTRATIONS]
        self.organization_projection = NewestWins(self.organizations)
        self.registration_projection = NewestWins(self.registrations)

    async def upsert_organization(self, org_id: str, fields: OrganizationDoc, event_time: datetime) -> bool:
        """Keep the newest; False if what is kept is newer than `event_time`."""
        return await self.organization_projection.apply(org_id, {"$set": fields}, event_time) != "stale"

    async def federation_name(self) -> str | None:
        """The name of the tree's root (the federation), once membership has announced it."""
        root = await self.organizations.find_one({"parent_id": None, "kind": "federation"}, {"name": 1})
        return root["name"] if root else None

    async def parents(self) -> dict[str, str | None]:
        """The organisation tree, child → parent (shared.access.OrganizationTree reads it)."""
        return {org["_id"]: org.get("parent_id") async for org in self.organizations.find({}, {"parent_id": 1})}

    async def upsert_registration(self, registration_id: str, fields: RegistrationDoc, event_time: datetime) -> None:
        await self.registration_projection.apply(registration_id, {"$set": fields}, event_time)

    async def active_registrations(self, event_id: str) -> list[RegistrationDoc]:
        cursor = self.registrations.find({"event_id": event_id, "status": "active"})
        return [cast(RegistrationDoc, d) async for d in cursor]

    async def segment(self, event_id: str) -> list[str]:
        """The ids of an event's active registrations, sorted."""
        cursor = self.registrations.find({"event_id": event_id, "status": "active"}, {"_id": 1})
        return sorted([d["_id"] async for d in cursor])

    async def registrations_in(self, ids: list[str]) -> list[RegistrationDoc]:
        cursor = self.registrations.find({"_id": {"$in": ids}, "status": "active"})
        return [cast(RegistrationDoc, d) async for d in cursor]

    async def addresses_of(self, member_id: str) -> list[str]:
        cursor = self.registrations.find({"member_id": member_id}, {"email": 1, "phone": 1})
        return [a async for d in cursor for a in (d.get("email"), d.get("phone")) if a]

    async def erase_member(self, member_id: str) -> None:
        """The member's registrations keep no name or address, and no later event about
        them writes one back."""
        await self.registrations.update_many(
            {"member_id": member_id},
            {"$unset": {"full_name": "", "email": "", "phone": ""}, "$set": {AS_OF_TS: ERASED_AS_OF_TS}},
        )
