"""Events the contests service publishes. An entry's events carry its entrants (the
authors with an address, and a youth entry's supervising teacher) with what
notifications needs to tell them, in their language, without asking anyone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import EventData, contract
from shared.contracts.types import Language

__all__ = [
    "AwardIssued",
    "ContestResultsPublished",
    "EditionSummary",
    "Entrant",
    "EntryAwarded",
    "EntryEvent",
    "EntryForwarded",
    "EntryNotAwarded",
    "EntryScored",
    "EntryScreened",
    "EntrySubmitted",
    "EntrySummary",
]

ContestKind = Literal["technical", "youth"]
TierCode = Literal["first", "second", "third", "honourable"]


class EditionSummary(BaseModel):
    """A contest edition as a message about it needs it."""

    model_config = ConfigDict(extra="ignore")
    edition_id: str
    code: str
    kind: ContestKind
    name_vi: str
    name_en: str | None = None


class EntrySummary(BaseModel):
    """An entry as a message about it needs it."""

    model_config = ConfigDict(extra="ignore")
    entry_id: str
    code: str = Field(description="The entry's number in its edition, e.g. STKT10-0042")
    title: str
    field_code: str
    field_vi: str
    field_en: str | None = None
    edition: EditionSummary


class Entrant(BaseModel):
    """One person told about an entry: an author, or a youth entry's supervising teacher."""

    model_config = ConfigDict(extra="ignore")
    person_id: str = Field(description="The member id, or a stable id that names nobody")
    member_id: str | None = None
    full_name: str
    email: str | None = None
    phone: str | None = Field(None, description="E.164, e.g. +84912345678")
    language: Language = "vi"
    role: Literal["author", "supervisor"] = "author"


class EntryEvent(EventData):
    entry: EntrySummary
    entrants: list[Entrant] = []


@contract("entry.submitted")
class EntrySubmitted(EntryEvent):
    """An entry was received (through the contest's website or by staff)."""

    documents: int = 0


@contract("entry.screened")
class EntryScreened(EntryEvent):
    """Screening (sơ khảo) decided: the entry goes on to scoring, or not (with the reason)."""

    decision: Literal["in", "out"]
    reason: str | None = None


@contract("entry.scored")
class EntryScored(EntryEvent):
    """Every judge assigned to the entry submitted a score sheet; results come with the board's decision."""

    results_expected: date | None = Field(None, description="When the organising board's decision round opens")


@contract("entry.awarded")
class EntryAwarded(EntryEvent):
    """Results were published and the entry won a prize."""

    tier: TierCode
    tier_vi: str
    tier_en: str
    prize_vnd: int = 0
    final_score: float
    rank: int | None = None
    decided_by_board: bool = Field(False, description="The organising board set this tier, with a recorded reason")
    results_url: str | None = None


@contract("entry.not_awarded")
class EntryNotAwarded(EntryEvent):
    """Results were published and the entry won no prize."""

    final_score: float | None = None
    results_url: str | None = None


@contract("entry.forwarded")
class EntryForwarded(EntryEvent):
    """The entry was sent on to the national contest."""

    national_contest: str | None = None


@contract("award.issued")
class AwardIssued(EntryEvent):
    """An award certificate was issued, with its public verification link."""

    certificate_code: str
    tier: TierCode
    tier_vi: str
    tier_en: str
    verify_url: str | None = None
    pdf_url: str | None = None


@contract("contest.results_published")
class ContestResultsPublished(EventData):
    """An edition's results were published (the public list needs no login)."""

    edition: EditionSummary
    published_at: datetime
    entries_ranked: int
    awarded: dict[str, int] = Field(default_factory=dict, description="Prizes awarded, by tier")
    results_url: str | None = None
