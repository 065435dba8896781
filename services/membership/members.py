"""Member records: what a valid member is, and how input is made clean.

Pure functions and models, no I/O: names trimmed to single spaces, emails
lower-cased and validated, phone numbers in E.164 (old 11-digit mobile numbers
mapped to their 10-digit successors), titles and degrees in their usual
abbreviations, and "young intellectual" derived from the date of birth.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from services.membership.vietnamese import fold
from shared.contracts import Consents
from shared.http import Conflict

__all__ = [
    "STATUSES",
    "TITLES",
    "DuplicateMember",
    "InvalidPhone",
    "InvalidTitle",
    "Member",
    "MemberIn",
    "MemberPatch",
    "fold",
    "is_young_intellectual",
    "normalise_name",
    "normalise_phone",
    "parse_gender",
    "parse_titles",
    "young_cutoff",
]

Gender = Literal["male", "female", "other"]
STATUSES = ("applied", "active", "suspended", "lapsed", "resigned", "rejected", "erased")
# Academic titles (học hàm) and degrees (học vị) in the abbreviations staff write.
TITLES = ("GS", "PGS", "TSKH", "TS", "ThS", "KS", "KTS", "BS", "DS", "CN")
_TITLE_BY_FOLD = {t.lower(): t for t in TITLES}
YOUNG_MAX_AGE = 35

# Pre-2018 eleven-digit mobile prefixes and the ten-digit ones that replaced them
# (Ministry of Information and Communications, conversion of 2018).
LEGACY_MOBILE_PREFIXES = {
    "162": "32",
    "163": "33",
    "164": "34",
    "165": "35",
    "166": "36",
    "167": "37",
    "168": "38",
    "169": "39",
    "120": "70",
    "121": "79",
    "122": "77",
    "126": "76",
    "128": "78",
    "123": "83",
    "124": "84",
    "125": "85",
    "127": "81",
    "129": "82",
    "186": "56",
    "188": "58",
    "199": "59",
}


class DuplicateMember(Conflict):
    code, title = "duplicate-member", "Member already exists"


class InvalidPhone(ValueError):
    pass


class InvalidTitle(ValueError):
    pass


def normalise_name(raw: str) -> str:
    """Trim and collapse inner white space; keep diacritics in NFC form."""
    return " ".join(unicodedata.normalize("NFC", raw).split())


def normalise_phone(raw: str, region: str = "VN") -> str:
    """A phone number in E.164 (+84…), from the ways people write it."""
    cleaned = re.sub(r"[\s.()/-]", "", raw)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if cleaned.startswith("84") and len(cleaned) >= 11:
        cleaned = "+" + cleaned
    national = None
    if cleaned.startswith("+84"):
        national = cleaned[3:]
    elif cleaned.startswith("0") and not cleaned.startswith("00"):
        national = cleaned[1:]
    if national is not None and len(national) == 10 and national[:3] in LEGACY_MOBILE_PREFIXES:
        cleaned = "+84" + LEGACY_MOBILE_PREFIXES[national[:3]] + national[3:]
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_titles(raw: str) -> list[str]:
    """`PGS.TS`, `pgs, ts`, `ThS.` → ["PGS", "TS"]; an unknown abbreviation is refused."""
    out: list[str] = []
    for part in re.split(r"[\s.,;/+]+", raw.strip()):
        if not part:
            continue
        title = _TITLE_BY_FOLD.get(fold(part))
        if title is None:
            raise InvalidTitle(f"unknown title or degree {part!r}; expected one of {', '.join(TITLES)}")
        if title not in out:
            out.append(title)
    return out


_GENDERS = {
    "nam": "male",
    "male": "male",
    "m": "male",
    "nu": "female",
    "female": "female",
    "f": "female",
    "khac": "other",
    "other": "other",
}


def parse_gender(raw: str) -> Gender | None:
    """`Nam`, `Nữ`, `Khác` or the English words; None if not recognised."""
    return _GENDERS.get(fold(raw))  # type: ignore[return-value]


def young_cutoff(today: date) -> date:
    """Members born after this date are 35 or under today."""
    try:
        return today.replace(year=today.year - YOUNG_MAX_AGE - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - YOUNG_MAX_AGE - 1, day=28)


def is_young_intellectual(date_of_birth: date | None, today: date) -> bool:
    """35 or under on `today` (derived each time, never stored)."""
    return date_of_birth is not None and date_of_birth > young_cutoff(today)


class ConsentRecord(BaseModel):
    """One channel's consent: given or withdrawn, when, and how we learnt it."""

    granted: bool
    at: datetime
    source: str


def _clean_name(value: str) -> str:
    name = normalise_name(value)
    if not name:
        raise ValueError("full name is empty")
    return name


def _clean_phone(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise_phone(value)
    except InvalidPhone as exc:
        raise ValueError(str(exc)) from None


def _clean_titles(value: list[str] | str | None) -> list[str]:
    if not value:
        return []
    try:
        return parse_titles(value if isinstance(value, str) else " ".join(value))
    except InvalidTitle as exc:
        raise ValueError(str(exc)) from None


class MemberIn(BaseModel):
    """A member as staff enter it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32, description="Any common writing; stored as E.164")
    date_of_birth: date | None = None
    gender: Gender | None = None
    titles: list[str] = Field(
        default_factory=list, max_length=5, description=f"Academic titles and degrees: {', '.join(TITLES)}"
    )
    expertise: str | None = Field(None, max_length=200, description="Field of expertise")
    language: Literal["vi", "en"] = "vi"
    consents: Consents = Consents()
    consent_source: str = Field("staff", max_length=100, description="How the consents were given (form, call…)")
    organization_ids: list[str] = Field(default_factory=list, max_length=20)

    _name = field_validator("full_name")(classmethod(lambda cls, v: _clean_name(v)))
    _phone = field_validator("phone")(classmethod(lambda cls, v: _clean_phone(v)))
    _titles = field_validator("titles", mode="before")(classmethod(lambda cls, v: _clean_titles(v)))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value.lower() if value else None

    @field_validator("organization_ids")
    @classmethod
    def _orgs(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class MemberPatch(BaseModel):
    """A change to a member's profile: only the fields sent change (null clears)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: str | None = Field(None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=32)
    date_of_birth: date | None = None
    gender: Gender | None = None
    titles: list[str] | None = Field(None, max_length=5)
    expertise: str | None = Field(None, max_length=200)
    language: Literal["vi", "en"] | None = None
    consents: Consents | None = None
    consent_source: str = Field("staff", max_length=100)
    organization_ids: list[str] | None = Field(None, min_length=1, max_length=20)

    @field_validator("full_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _clean_name(value)

    _phone = field_validator("phone")(classmethod(lambda cls, v: _clean_phone(v)))

    @field_validator("titles", mode="before")
    @classmethod
    def _titles(cls, value):
        return None if value is None else _clean_titles(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value.lower() if value else None


class Term(BaseModel):
    start: date
    end: date


class Member(BaseModel):
    """A member as the API shows it."""

    id: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    gender: Gender | None = None
    titles: list[str] = []
    expertise: str | None = None
    language: Literal["vi", "en"] = "vi"
    consents: Consents = Consents()
    consent_records: dict[str, ConsentRecord] = {}
    organization_ids: list[str] = []
    status: str
    young_intellectual: bool = Field(False, description="35 or under today (derived from the date of birth)")
    term: Term | None = None
    dues_state: Literal["paid", "unpaid"] | None = None
    created_at: datetime
    created_by: str
    updated_at: datetime
    approved_at: datetime | None = None
    approved_by: str | None = None
    rejected_at: datetime | None = None
    rejected_by: str | None = None
    erased_at: datetime | None = None
