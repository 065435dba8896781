"""Who may register and who they are: registration input, normalised guest contact,
the keys that make one person hold one registration per event, the audience rule,
and the unguessable codes and signed links a registrant receives.

Pure functions and models, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from services.events.catalogue import text
from shared.http import Conflict, DomainError

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


class GuestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32)
    language: Literal["vi", "en"] = "vi"

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str) -> str:
        name = " ".join(unicodedata.normalize("NFC", value).split())
        if not name:
            raise ValueError("full name is empty")
        return name

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @model_validator(mode="after")
    def _reachable(self) -> GuestIn:
        if not self.email and not self.phone:
            raise ValueError("give an email address or a phone number so we can send the ticket")
        return self


class RegistrationIn(BaseModel):
    """A member (by id) or a guest registers."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    member_id: str | None = Field(None, min_length=1, max_length=64)
    guest: GuestIn | None = None

    @model_validator(mode="after")
    def _one(self) -> RegistrationIn:
        if (self.member_id is None) == (self.guest is None):
            raise ValueError("give either member_id or guest, not both")
        return self


def normalise_phone(raw: str, region: str = "VN") -> str:
    """E.164 (+84…) from the ways people write Vietnamese numbers."""
    cleaned = re.sub(r"[\s.()-]", "", raw)
    if cleaned.startswith("84") and not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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


class InvalidIdempotencyKey(DomainError):
    status, code, title = 422, "validation-error", "Invalid input"

    def __init__(self) -> None:
        super().__init__(
            "1 field(s) are invalid",
            errors=[
                {
                    "field": "Idempotency-Key",
                    "in": "header",
                    "code": "string_pattern_mismatch",
                    "message": "1 to 128 letters, digits or - _ . :",
                }
            ],
        )


# --- who may come ---------------------------------------------------------------


class NotEligible(DomainError):
    status, code, title = 403, "audience-restricted", "This event is not open to you"


class UnknownMember(DomainError):
    status, code, title = 422, "unknown-member", "No such member"


class DuplicateRegistration(Conflict):
    code, title = "duplicate-registration", "Already registered"


def check_audience(
    audience: dict[str, Any], member: dict[str, Any] | None, *, guest: bool, language: str = "vi"
) -> None:
    """Public events take anyone; members-only events take active members; events for listed
    organisations take active members of one of them (or of an organisation below one)."""
    kind = audience.get("kind", "public")
    if kind == "public":
        return
    message = text("members_only" if kind == "members" else "organizations_only", language)
    if guest or member is None:
        raise NotEligible(message, audience=kind, reason="guest" if guest else "not_a_member")
    if member.get("status") != "active":
        raise NotEligible(message, audience=kind, reason="membership_not_active")
    if kind == "organizations":
        allowed = set(audience.get("organization_ids") or [])
        if not allowed.intersection(member.get("organization_tree") or member.get("organization_ids") or []):
            raise NotEligible(message, audience=kind, reason="not_in_listed_organizations")


# --- codes and signed links --------------------------------------------------------


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


def sign(secret: bytes, value: str) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, value.encode(), hashlib.sha256).digest()[:18]).decode()


def signature_ok(secret: bytes, value: str, token: str) -> bool:
    return hmac.compare_digest(sign(secret, value).encode(), token.encode())  # bytes: any text the caller sends
