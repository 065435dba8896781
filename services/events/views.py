"""How stored events and registrations are shown: answers built from documents.

Pure functions, no I/O. What a caller may see is decided by the use case and passed
in (`contact`: may they read the person's email and phone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.events.announcements import Links
from services.events.catalogue import text
from services.events.programme import iso, ordered_sessions, registration_open
from services.events.records import EventDoc, OrganizationDoc, RegistrationDoc
from shared.clock import LOCAL_ZONE_NAME, epoch, to_local

PUBLIC_AUDIENCE = {"kind": "public", "organization_ids": []}


def organizer_ids(doc: EventDoc) -> list[str]:
    return [doc["organizer_id"], *(doc.get("co_organizer_ids") or [])]


def event_view(doc: EventDoc, names: Mapping[str, OrganizationDoc]) -> dict[str, Any]:
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
        "sessions": [session_view(sid, s) for sid, s in ordered_sessions(doc)],
        "starts_at": iso(doc["starts_at"]),
        "ends_at": iso(doc["ends_at"]),
        "timezone": LOCAL_ZONE_NAME,
        "capacity": doc["capacity"],
        "confirmed": doc.get("confirmed", 0),
        "waiting": doc.get("waiting", 0),
        "seats_free": doc.get("seats_free", 0),
        "registration_opens_at": iso(doc.get("registration_opens_at")),
        "registration_closes_at": iso(doc.get("registration_closes_at")),
        "registration_open": registration_open(doc, epoch()),
        "audience": doc.get("audience") or PUBLIC_AUDIENCE,
        "training_hours": doc.get("training_hours"),
        "status": doc["status"],
        "cancel_reason": doc.get("cancel_reason"),
        "created_at": iso(doc.get("created_at")),
        "updated_at": iso(doc.get("updated_at")),
    }


def session_view(sid: str, s: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "title": s.get("title"),
        "room": s.get("room"),
        "starts_at": iso(s["starts_at"]),
        "ends_at": iso(s["ends_at"]),
        "starts_at_local": to_local(s["starts_at"]).isoformat(),
        "ends_at_local": to_local(s["ends_at"]).isoformat(),
    }


def registration_view(
    reg: RegistrationDoc, links: Links, *, position: int | None = None, contact: bool = True
) -> dict[str, Any]:
    """A registration; `contact=False` leaves out the person's email and phone (a caller who
    could not read them otherwise, e.g. a partner who registered a member by id)."""
    out: dict[str, Any] = {
        "id": reg["_id"],
        "event_id": reg["event_id"],
        "status": reg["status"],
        "kind": reg.get("kind"),
        "member_id": reg.get("member_id"),
        "full_name": reg.get("full_name"),
        "email": reg.get("email") if contact else None,
        "phone": reg.get("phone") if contact else None,
        "language": reg.get("language") or "vi",
        "created_at": iso(reg.get("created_at")),
        "ticket_code": reg.get("ticket_code"),
        "position": position,
        "checkins": {sid: iso(at) for sid, at in (reg.get("checkins") or {}).items()},
        "cancelled_at": iso(reg.get("cancelled_at")),
        "cancelled_by": reg.get("cancelled_by"),
        "certificate_code": reg.get("certificate_code"),
    }
    if reg.get("ticket_code") and reg["status"] == "confirmed":
        out["qr_url"] = links.qr(reg["ticket_code"])
    if reg["status"] != "cancelled":
        out["cancel_url"] = links.cancel(reg["_id"])
    return out
