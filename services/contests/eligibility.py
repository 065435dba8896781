"""Who and what may enter: pure rules.

Technical contest: the solution must have been applied in practice, on or after the
edition's configured date and not after today, and must not have been entered
before. Declaring it was entered before refuses it; a title too like an earlier
edition's entry is flagged for the screening board (titles are compared folded,
without diacritics, by words and by characters).

Youth contest: every author is aged within the edition's range (6–18 by default)
on the cut-off date, a supervising teacher is named, and the entry is in one of
the edition's boards (by school level).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any

from services.contests.catalogue import MESSAGES
from shared.clock import local_date_text
from shared.errors import FieldError, Invalid
from shared.text import fold

SIMILAR_AT = 0.8  # titles at least this alike are flagged


@dataclass(frozen=True)
class Similar:
    entry_id: str
    code: str
    edition_id: str
    title: str
    similarity: float


def age_on(born: date, day: date) -> int:
    """Full years of age on `day`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def check_entry(kind: str, edition: Mapping[str, Any], entry: Mapping[str, Any], today: date) -> None:
    """Invalid (422) naming each field at fault; nothing when the entry may enter."""
    errors: list[FieldError] = []
    fields = [f["code"] for f in edition["fields"]]
    if entry["field"] not in fields:
        errors.append(
            FieldError("field", MESSAGES("contests.eligibility.unknown_field", fields=", ".join(fields)), "field")
        )
    rules = edition["eligibility"]
    if kind == "technical":
        _technical(rules, entry, today, errors)
    else:
        _youth(rules, entry, today, errors)
    if errors:
        raise Invalid(*errors)


def _technical(rules: Mapping[str, Any], entry: Mapping[str, Any], today: date, errors: list[FieldError]) -> None:
    applied = entry.get("applied_since")
    since = rules.get("applied_since")
    if applied is None:
        errors.append(FieldError("applied_since", MESSAGES("contests.eligibility.applied_required"), "required"))
    else:
        applied_day = date.fromisoformat(applied)
        if since and applied_day < date.fromisoformat(since):
            message = MESSAGES(
                "contests.eligibility.applied_too_early", since=local_date_text(date.fromisoformat(since))
            )
            errors.append(FieldError("applied_since", message, "applied_too_early"))
        if applied_day > today:
            errors.append(FieldError("applied_since", MESSAGES("contests.eligibility.applied_in_future"), "in_future"))
    if entry.get("history_declared", {}).get("previously_entered"):
        message = MESSAGES("contests.eligibility.entered_before")
        errors.append(FieldError("history.previously_entered", message, "entered_before"))


def _youth(rules: Mapping[str, Any], entry: Mapping[str, Any], today: date, errors: list[FieldError]) -> None:
    cutoff = date.fromisoformat(rules["age_cutoff"]) if rules.get("age_cutoff") else today
    low, high = rules.get("age_min", 6), rules.get("age_max", 18)
    for i, author in enumerate(entry["entrant"]["authors"]):
        born = author.get("date_of_birth")
        where = f"entrant.authors.{i}.date_of_birth"
        if not born:
            errors.append(FieldError(where, MESSAGES("contests.eligibility.birth_required"), "required"))
            continue
        age = age_on(date.fromisoformat(born), cutoff)
        if not low <= age <= high:
            message = MESSAGES("contests.eligibility.age", min=low, max=high, cutoff=local_date_text(cutoff), age=age)
            errors.append(FieldError(where, message, "age"))
    supervisor = entry.get("supervisor") or {}
    if rules.get("supervisor_required", True) and not (supervisor.get("full_name") and supervisor.get("school")):
        errors.append(FieldError("supervisor", MESSAGES("contests.eligibility.supervisor_required"), "required"))
    boards = rules.get("boards") or []
    if entry.get("board") not in boards:
        names = ", ".join(MESSAGES(f"contests.board.{b}").render("vi") for b in boards)
        errors.append(FieldError("board", MESSAGES("contests.eligibility.board", boards=names), "board"))


def title_key(title: str) -> str:
    return fold(title)


def similarity(a: str, b: str) -> float:
    """How alike two folded titles are, 0–1: the better of word overlap and character matching."""
    words_a, words_b = set(a.split()), set(b.split())
    overlap = len(words_a & words_b) / len(words_a | words_b) if words_a | words_b else 0.0
    if overlap < SIMILAR_AT / 2:  # too few words in common to be the same title: skip the slower comparison
        return overlap
    return max(overlap, SequenceMatcher(None, a, b, autojunk=False).ratio())


def similar_titles(title: str, earlier: Iterable[dict[str, Any]], at: float = SIMILAR_AT) -> list[Similar]:
    """Earlier editions' entries whose titles are at least `at` alike, most alike first."""
    key = title_key(title)
    found = []
    for other in earlier:
        score = similarity(key, other["title_key"])
        if score >= at:
            found.append(Similar(other["_id"], other["code"], other["edition_id"], other["title"], round(score, 2)))
    return sorted(found, key=lambda s: (-s.similarity, s.code))[:5]
