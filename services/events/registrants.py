"""Who may register and who they are: the keys that make one person hold one
registration per event, the audience rule, and the unguessable codes a registrant
receives.

Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

from services.events.catalogue import MESSAGES
from services.events.endpoints import GuestIn, RegistrationIn
from shared.errors import Conflict, DomainError, FieldError, Invalid

__all__ = ["GuestIn", "RegistrationIn"]
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def holder_keys(
    event_id: str, *, member_id: str | None = None, email: str | None = None, phone: str | None = None
) -> dict[str, str]:
    """Unique keys of one person at one event: a member by id, a guest by email and by phone.
    Unique indexes on these refuse a second active registration; cancelling unsets them."""
    keys: dict[str, str] = {}
    if member_id:
        keys["holder_member"] = f"{event_id}|{member_id}"
    if email:
        keys["holder_email"] = f"{event_id}|{email.lower()}"
    if phone:
        keys["holder_phone"] = f"{event_id}|{phone}"
    return keys


HOLDER_FIELDS = ("holder_member", "holder_email", "holder_phone")


def idempotency_key(event_id: str, caller: str, key: str) -> str:
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidIdempotencyKey()
    return f"{event_id}|{caller}|{key}"


class InvalidIdempotencyKey(Invalid):
    def __init__(self) -> None:
        super().__init__(
            FieldError("Idempotency-Key", MESSAGES("events.idempotency_key"), "string_pattern_mismatch", "header")
        )


# --- who may come ---------------------------------------------------------------


class NotEligible(DomainError):
    status, code, title = 403, "audience-restricted", MESSAGES("events.audience_restricted")


class UnknownMember(DomainError):
    status, code, title = 422, "unknown-member", MESSAGES("events.unknown_member")


class DuplicateRegistration(Conflict):
    code, title = "duplicate-registration", MESSAGES("events.duplicate_registration")


def check_audience(audience: Any, member: Any, *, guest: bool) -> None:
    """Public events take anyone; members-only events take active members; events for listed
    organisations take active members of one of them (or of an organisation below one)."""
    kind = audience.get("kind", "public")
    reason = None if kind == "public" else _refusal(kind, audience, member, guest)
    if reason is not None:
        message = MESSAGES("events.members_only" if kind == "members" else "events.organizations_only")
        raise NotEligible(message, audience=kind, reason=reason)


def _refusal(kind: str, audience: Any, member: Any, guest: bool) -> str | None:
    if guest or member is None:
        return "guest" if guest else "not_a_member"
    if member.get("status") != "active":
        return "membership_not_active"
    if kind == "organizations":
        allowed = set(audience.get("organization_ids") or [])
        if not allowed.intersection(member.get("organization_tree") or member.get("organization_ids") or []):
            return "not_in_listed_organizations"
    return None


# --- codes --------------------------------------------------------


def new_ticket_code() -> str:
    """80 random bits in Crockford-like base32, grouped for reading aloud: ABCD-EFGH-JKLM-NPQR."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def new_certificate_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "CN-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_code(raw: str) -> str:
    """Codes as people type them: lower case, spaces, missing dashes."""
    compact = re.sub(r"[^A-Za-z0-9]", "", raw).upper()
    if compact.startswith("CN") and len(compact) == 18:
        return "CN-" + "-".join(compact[i : i + 4] for i in range(2, 18, 4))
    if len(compact) == 16:
        return "-".join(compact[i : i + 4] for i in range(0, 16, 4))
    return raw.strip().upper()
