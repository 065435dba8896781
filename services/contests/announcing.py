"""What the contests service tells the platform: event contracts built from an
edition and an entry. Pure; the use cases store the events with the change that
caused them (the outbox)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.contracts import EditionSummary, Entrant, EntrySummary, EventData, new_event
from shared.contracts.envelope import Envelope

SERVICE = "contests"


@dataclass(frozen=True)
class Links:
    """Public addresses put in messages (the gateway's base URL)."""

    base: str

    @classmethod
    def of(cls, public_base_url: str) -> Links:
        return cls(public_base_url.rstrip("/") + "/api/v1")

    def results(self, edition_id: str) -> str:
        return f"{self.base}/contests/editions/{edition_id}/results"

    def verify(self, code: str) -> str:
        return f"{self.base}/contests/certificates/{code}"

    def certificate_pdf(self, code: str) -> str:
        return f"{self.base}/contests/certificates/{code}/pdf"


def edition_summary(edition: Mapping[str, Any]) -> EditionSummary:
    return EditionSummary(
        edition_id=edition["_id"],
        code=edition["code"],
        kind=edition["kind"],
        name_vi=edition["name"]["vi"],
        name_en=edition["name"].get("en"),
    )


def entry_summary(edition: Mapping[str, Any], entry: Mapping[str, Any]) -> EntrySummary:
    field = next((f for f in edition["fields"] if f["code"] == entry["field"]), None)
    name = field["name"] if field else {"vi": entry["field"]}
    return EntrySummary(
        entry_id=entry["_id"],
        code=entry["code"],
        title=entry["title"],
        field_code=entry["field"],
        field_vi=name["vi"],
        field_en=name.get("en"),
        edition=edition_summary(edition),
    )


def entrants(entry: Mapping[str, Any]) -> list[Entrant]:
    """Everyone told about the entry: each author with an address (erased ones not),
    and a youth entry's supervising teacher."""
    people = []
    for index, author in enumerate(entry["entrant"]["authors"]):
        if author.get("erased") or not (author.get("email") or author.get("phone")):
            continue
        people.append(
            Entrant(
                person_id=author.get("member_id") or _pseudonym(entry["_id"], f"author-{index}"),
                member_id=author.get("member_id"),
                full_name=author["full_name"],
                email=author.get("email"),
                phone=author.get("phone"),
                language=author.get("language", "vi"),
            )
        )
    teacher = entry.get("supervisor") or {}
    if teacher.get("email") or teacher.get("phone"):
        people.append(
            Entrant(
                person_id=_pseudonym(entry["_id"], "supervisor"),
                full_name=teacher["full_name"],
                email=teacher.get("email"),
                phone=teacher.get("phone"),
                language=teacher.get("language", "vi"),
                role="supervisor",
            )
        )
    return people


def about_entry(
    data_type: type[EventData],
    edition: Mapping[str, Any],
    entry: Mapping[str, Any],
    correlation_id: str | None,
    **fields: Any,
) -> Envelope:
    """An entry's event, carrying its summary and its entrants."""
    data = data_type(entry=entry_summary(edition, entry), entrants=entrants(entry), **fields)
    return new_event(data, producer=SERVICE, correlation_id=correlation_id)


def _pseudonym(entry_id: str, who: str) -> str:
    """A stable id for a person who is not a member, that names nobody."""
    return "entrant-" + hashlib.sha256(f"{entry_id}:{who}".encode()).hexdigest()[:20]
