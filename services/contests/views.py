"""Stored documents shaped into what each reader may see. Pure.

Who reads an entry decides what they see:
- `board` (the federation's office): everything, including possible repeats of
  past entries and, once published, the result;
- `staff` (the contest's website, association managers): the entry and its
  history; its result only once the edition's results are published;
- `judge`: the entry without the authors' addresses, nothing of its result.
No one but the board sees a score before publication.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any, Literal

from services.contests.catalogue import label
from services.contests.records import EditionDoc, EntryDoc, SheetDoc
from services.contests.timeline import ROUNDS, is_open
from shared.clock import local_time_text

Audience = Literal["board", "staff", "judge"]
API = "/api/v1"


def points(hundredths: int | Fraction | None) -> float | None:
    """Stored hundredths as points, e.g. 8550 → 85.5 (for reading: the ranking itself stays exact)."""
    if hundredths is None:
        return None
    return round(hundredths.numerator / (hundredths.denominator * 100), 2)


def edition(doc: EditionDoc, now: datetime) -> dict[str, Any]:
    timeline = {
        name: {
            "label": label("round", name),
            "opens_at": doc["timeline"][name]["opens_at"],
            "closes_at": doc["timeline"][name]["closes_at"],
            "opens_at_local": local_time_text(doc["timeline"][name]["opens_at"]),
            "closes_at_local": local_time_text(doc["timeline"][name]["closes_at"]),
            "open_now": is_open(doc["timeline"], name, now),
        }
        for name in ROUNDS
        if name in doc["timeline"]
    }
    vote = doc["community_vote"]
    return {
        "id": doc["_id"],
        "code": doc["code"],
        "kind": doc["kind"],
        "kind_label": label("kind", doc["kind"]),
        "number": doc.get("number"),
        "name": doc["name"],
        "status": doc["status"],
        "timeline": timeline,
        "with_presentations": bool(doc.get("with_presentations")),
        "fields": doc["fields"],
        "criteria": [criterion(c) for c in doc["criteria"]],
        "total_points": points(sum(c["max_points"] for c in doc["criteria"])),
        "tie_break": doc["tie_break"],
        "tiers": [{**t, "label": label("tier", t["code"]), "threshold": points(t["threshold"])} for t in doc["tiers"]],
        "aggregation": doc["aggregation"],
        "aggregation_label": label("aggregation", doc["aggregation"]),
        "min_judges": doc["min_judges"],
        "judges_per_entry": doc["judges_per_entry"],
        "disagreement_threshold": points(doc.get("disagreement_threshold")),
        "rank_by": doc["rank_by"],
        "eligibility": doc["eligibility"],
        "community_vote": {"enabled": bool(vote["enabled"]), "share": vote["share_permille"] / 1000},
        "national_contest": doc.get("national_contest"),
        "decision_number": doc.get("decision_number"),
        "entries": doc.get("entry_seq", 0),
        "published_at": doc.get("published_at"),
    }


def criterion(c: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "code": c["code"],
        "name": c["name"],
        "max_points": points(c["max_points"]),
        "levels": [
            {**level, "points_from": points(level["points_from"]), "points_to": points(level["points_to"])}
            for level in c["levels"]
        ],
    }


def field_label(edition_doc: Mapping[str, Any], code: str) -> dict[str, str | None]:
    for f in edition_doc["fields"]:
        if f["code"] == code:
            return {"vi": f["name"]["vi"], "en": f["name"].get("en")}
    return {"vi": code, "en": code}


def entry(doc: EntryDoc, edition_doc: EditionDoc, audience: Audience) -> dict[str, Any]:
    published = edition_doc["status"] == "published"
    authors = [_author(a, audience) for a in doc["entrant"]["authors"]]
    supervisor: Mapping[str, Any] | None = doc.get("supervisor")
    if supervisor and audience == "judge":
        supervisor = {k: v for k, v in supervisor.items() if k in ("full_name", "school")}
    history = [
        {"status": h["status"], "label": label("status", h["status"]), "at": h["at"], "reason": h.get("reason")}
        for _, h in sorted(doc["history"].items())
    ]
    out: dict[str, Any] = {
        "id": doc["_id"],
        "code": doc["code"],
        "edition_id": doc["edition_id"],
        "title": doc["title"],
        "field": doc["field"],
        "field_label": field_label(edition_doc, doc["field"]),
        "summary": doc["summary"],
        "description": doc.get("description"),
        "applied_since": doc.get("applied_since"),
        "application_place": doc.get("application_place"),
        "entrant": {**doc["entrant"], "authors": authors},
        "supervisor": supervisor,
        "board": doc.get("board"),
        "status": doc["status"],
        "status_label": label("status", doc["status"]),
        "status_history": history,
        "documents": [_document(doc["_id"], key, d) for key, d in sorted(doc["documents"].items())],
        "screening_reason": (doc.get("screening") or {}).get("reason") if audience != "judge" else None,
        "warnings": doc.get("warnings") if audience == "board" else None,
        "result": _result(doc) if published and audience != "judge" and doc.get("result") else None,
        "certificate": _certificate(doc) if doc.get("certificate_code") and audience != "judge" else None,
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }
    return out


def _author(author: Mapping[str, Any], audience: Audience) -> dict[str, Any]:
    shown = {k: v for k, v in author.items() if k not in ("erased",)}
    if shown.get("share") is not None:
        shown["share"] = shown["share"] / 100
    if audience == "judge":
        for private in ("email", "phone", "date_of_birth"):
            shown.pop(private, None)
    return shown


def _document(entry_id: str, document_id: str, d: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": document_id,
        **{k: d[k] for k in ("name", "media_type", "kind", "size", "sha256", "uploaded_at")},
        "url": f"{API}/contests/entries/{entry_id}/documents/{document_id}",
    }


def _result(doc: EntryDoc) -> dict[str, Any]:
    result = doc["result"]
    return {
        "rank": result.get("rank"),
        "final_score": points(result.get("final")),
        "tier": result.get("tier"),
        "tier_label": label("tier", result.get("tier")),
        "prize_vnd": result.get("prize_vnd", 0),
        "decided_by_board": bool(result.get("decided_by_board")),
        "board_reason": result.get("board_reason"),
    }


def _certificate(doc: EntryDoc) -> dict[str, str]:
    code = doc["certificate_code"]
    return {
        "code": code,
        "verify_url": f"{API}/contests/certificates/{code}",
        "pdf_url": f"{API}/contests/certificates/{code}/pdf",
    }


def sheet(doc: SheetDoc, criteria: list[str]) -> dict[str, Any]:
    scores = doc.get("scores") or {}
    return {
        "entry_id": doc["entry_id"],
        "judge": doc["judge"],
        "status": doc["status"],
        "scores": {c: points(v) for c, v in scores.items()},
        "total": points(sum(scores.get(c, 0) for c in criteria)),
        "comment": doc.get("comment"),
        "submitted_at": doc.get("submitted_at") if doc["status"] == "submitted" else None,
        "reopen_reasons": [str(r.get("reason")) for _, r in sorted((doc.get("reopened") or {}).items())],
    }
