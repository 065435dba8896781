"""Member records: what a valid member is, and how input is made clean.

Pure functions and models, no I/O: names trimmed to single spaces, emails
lower-cased and validated, phone numbers in E.164.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from shared.contracts import Consents
from shared.http import Conflict


class DuplicateMember(Conflict):
    code, title = "duplicate-member", "Member already exists"


class InvalidPhone(ValueError):
    pass


def normalise_name(raw: str) -> str:
    """Trim and collapse inner white space; keep diacritics in NFC form."""
    return " ".join(unicodedata.normalize("NFC", raw).split())


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics (đ → d): the key search compares."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower().split())


def normalise_phone(raw: str, region: str = "VN") -> str:
    """A phone number in E.164 (+84…), from the ways people write it."""
    cleaned = re.sub(r"[\s.()-]", "", raw)
    if cleaned.startswith("84") and not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class MemberIn(BaseModel):
    """A member as staff enter it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32)
    date_of_birth: date | None = None
    gender: Literal["male", "female", "other"] | None = None
    language: Literal["vi", "en"] = "vi"
    consents: Consents = Consents()
    organization_ids: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str) -> str:
        name = normalise_name(value)
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
        if not value:
            return None
        try:
            return normalise_phone(value)
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None


class Member(BaseModel):
    """A member as the API shows it."""

    id: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    gender: Literal["male", "female", "other"] | None = None
    language: Literal["vi", "en"] = "vi"
    consents: Consents = Consents()
    organization_ids: list[str] = []
    status: str
    created_at: datetime
    created_by: str
    updated_at: datetime
