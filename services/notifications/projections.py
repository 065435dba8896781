"""What notifications keeps of other services' data, from their events: contacts
(members and their consents), members' preferences, organisations and registrations
(to choose campaign segments). Queries and writes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.notifications.records import ContactDoc, OrganizationDoc, PreferencesDoc, RegistrationDoc
from shared.contracts import MemberContact

CONTACTS = "contacts"
ORGANIZATIONS = "organizations"
REGISTRATIONS = "registrations"
PREFERENCES = "preferences"
# What erasure removes from a contact (the id and the "erased" mark stay).
PERSONAL_CONTACT = ("full_name", "email", "phone", "date_of_birth", "expertise", "organization_ids", "consents")


class ContactStore:
    """Members as notifications needs them, from member.* events, plus their preferences."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.contacts = db[CONTACTS]
        self.preferences = db[PREFERENCES]

    async def upsert(self, contact: MemberContact, event_time: datetime, extra: dict[str, Any] | None = None) -> None:
        """Keep the newest contact data: an older event arriving late changes nothing.

        One conditional upsert: when the stored copy is newer (or erased) the filter
        misses, the upsert collides on `_id`, and the duplicate-key error means "keep
        what we have". The `$or` sits inside `$and`: beside other conditions the
        embedded store would ignore them, `_id` included, and overwrite another member.
        """
        doc = contact.model_dump(mode="json", exclude={"member_id", "reviewer_emails", "expertise"})
        doc["consents"] = {
            "email": "yes" if contact.consents.email else "no",
            "sms": "yes" if contact.consents.sms else "no",
        }
        doc.update(extra or {})
        try:
            await self.contacts.update_one(
                {
                    "$and": [
                        {"_id": contact.member_id},
                        {"erased": {"$exists": False}},
                        {"$or": [{"as_of": {"$lte": event_time}}, {"as_of": {"$exists": False}}]},
                    ]
                },
                {"$set": {**doc, "as_of": event_time}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass

    async def get(self, member_id: str) -> ContactDoc | None:
        return cast(ContactDoc | None, await self.contacts.find_one({"_id": member_id}))

    async def many(self, member_ids: list[str], fields: Mapping[str, int] | None = None) -> dict[str, ContactDoc]:
        if not member_ids:
            return {}
        return {d["_id"]: cast(ContactDoc, d) async for d in self.contacts.find({"_id": {"$in": member_ids}}, fields)}

    async def erased_among(self, member_ids: list[str]) -> list[str]:
        cursor = self.contacts.find({"_id": {"$in": member_ids}, "erased": {"$exists": True}}, {"_id": 1})
        return [d["_id"] async for d in cursor]

    async def segment(self, query: dict[str, Any]) -> list[str]:
        """The ids of active, unerased contacts matching a segment's conditions, sorted."""
        full = {"erased": {"$exists": False}, "status": "active", **query}
        return sorted([d["_id"] async for d in self.contacts.find(full, {"_id": 1})])

    async def erase(self, member_id: str) -> None:
        await self.contacts.update_one(
            {"_id": member_id},
            {
                "$set": {"erased": "yes", "as_of": datetime.now(UTC)},
                "$unset": {field: "" for field in PERSONAL_CONTACT},
            },
            upsert=True,
        )
        await self.preferences.delete_one({"_id": member_id})

    async def get_preferences(self, recipient_id: str) -> dict[str, Any] | None:
        doc = await self.preferences.find_one({"_id": recipient_id})
        return None if doc is None else {k: v for k, v in doc.items() if k in ("service", "announcement", "zalo")}

    async def get_many_preferences(self, recipient_ids: list[str]) -> dict[str, PreferencesDoc]:
        cursor = self.preferences.find({"_id": {"$in": recipient_ids}})
        return {d["_id"]: cast(PreferencesDoc, d) async for d in cursor}

    async def set_preferences(self, recipient_id: str, prefs: Mapping[str, Any]) -> None:
        # Booleans written by $set read back as 1/0 on the embedded store; bool() restores them.
        fields = {
            f"{cat}.{ch}": on
            for cat, channels in prefs.items()
            if isinstance(channels, Mapping)
            for ch, on in channels.items()
        }
        fields.update({k: v for k, v in prefs.items() if not isinstance(v, Mapping)})
        await self.preferences.update_one(
            {"_id": recipient_id}, {"$set": fields | {"updated_at": datetime.now(UTC)}}, upsert=True
        )


class DirectoryStore:
    """Organisations and registrations, kept from events to choose campaign segments."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.organizations = db[ORGANIZATIONS]
        self.registrations = db[REGISTRATIONS]

    async def upsert_organization(self, org_id: str, fields: OrganizationDoc) -> None:
        await self.organizations.update_one({"_id": org_id}, {"$set": fields}, upsert=True)

    async def federation_name(self) -> str | None:
        """The name of the tree's root (the federation), once membership has announced it."""
        root = await self.organizations.find_one({"parent_id": None, "kind": "federation"}, {"name": 1})
        return root["name"] if root else None

    async def parents(self) -> dict[str, str | None]:
        """The organisation tree, child → parent (shared.access.OrganizationTree reads it)."""
        return {org["_id"]: org.get("parent_id") async for org in self.organizations.find({}, {"parent_id": 1})}

    async def upsert_registration(self, registration_id: str, fields: RegistrationDoc) -> None:
        await self.registrations.update_one({"_id": registration_id}, {"$set": fields}, upsert=True)

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
        await self.registrations.update_many(
            {"member_id": member_id}, {"$unset": {"full_name": "", "email": "", "phone": ""}}
        )
