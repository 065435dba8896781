"""Pieces several contracts share."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventData

__all__ = ["Consents", "Language", "MemberContact"]

Language = Literal["vi", "en"]


class Consents(BaseModel):
    """Whether the person agreed to hear from us on each channel."""

    model_config = ConfigDict(extra="ignore")
    email: bool = True
    sms: bool = False


class MemberContact(EventData):
    """What other services need to reach a member and keep their projections."""

    member_id: str
    full_name: str
    email: str | None = None
    phone: str | None = Field(None, description="E.164, e.g. +84912345678")
    language: Language = "vi"
    consents: Consents = Consents()
    organization_ids: list[str] = []
    status: str
    date_of_birth: date | None = None
    expertise: str | None = Field(None, description="Field of expertise, as entered (campaigns choose members by it)")
