"""Who entered: an individual, an author group, or an organisation with named
authors. Pure rules turning what was sent into what is stored.

A member author is linked to their member record (their name, address and language
come from it unless given); anyone else is a guest. Shares of authorship are given
for all authors or for none, and add up to 100 %. Phone numbers are stored in
E.164, names in one clean form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from services.contests.catalogue import MESSAGES
from shared.errors import MESSAGES as FIELD_MESSAGES
from shared.errors import FieldError, Invalid
from shared.text import InvalidPhone, fold, normalise_name, normalise_phone

ERASED_NAME = "—"


def authors(
    sent: Sequence[Mapping[str, Any]], members: Mapping[str, Mapping[str, Any]], where: str = "entrant.authors"
) -> list[dict[str, Any]]:
    """The authors to store; Invalid naming each one at fault. `members`: known members by id."""
    errors: list[FieldError] = []
    stored = [_author(i, a, members, where, errors) for i, a in enumerate(sent)]
    shares = [a.get("share") for a in sent]
    given = [s for s in shares if s is not None]
    if given and (len(given) != len(shares) or sum(Decimal(str(s)) for s in given) != 100):
        errors.append(FieldError(where, MESSAGES("contests.entrant.shares"), "shares"))
    if errors:
        raise Invalid(*errors)
    return stored


def _author(
    index: int, sent: Mapping[str, Any], members: Mapping[str, Mapping[str, Any]], where: str, errors: list[FieldError]
) -> dict[str, Any]:
    member_id = sent.get("member_id")
    known = members.get(member_id) if member_id else None
    if member_id and (known is None or known.get("status") == "erased"):
        errors.append(FieldError(f"{where}.{index}.member_id", MESSAGES("contests.entrant.unknown_member"), "unknown"))
        known = {}
    known = known or {}
    name = sent.get("full_name") or known.get("full_name")
    if not name:
        errors.append(FieldError(f"{where}.{index}.full_name", MESSAGES("contests.entrant.name_needed"), "required"))
    author: dict[str, Any] = {
        "full_name": normalise_name(name or ""),
        "member_id": member_id,
        "email": (sent.get("email") or known.get("email") or None),
        "phone": phone(sent.get("phone"), f"{where}.{index}.phone", errors) or known.get("phone"),
        "language": sent.get("language") or known.get("language") or "vi",
        "share": int(Decimal(str(sent["share"])) * 100) if sent.get("share") is not None else None,
    }
    for optional in ("date_of_birth", "school", "grade"):
        value: Any = sent.get(optional)
        author[optional] = value.isoformat() if isinstance(value, date) else value
    if author["email"]:
        author["email"] = str(author["email"]).lower()
    return author


def phone(raw: str | None, where: str, errors: list[FieldError]) -> str | None:
    if not raw:
        return None
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        errors.append(FieldError(where, FIELD_MESSAGES("field.phone"), "phone"))
        return None


def check_entrant(kind: str, organization_id: str | None, organization_name: str | None, count: int) -> None:
    """The entrant's kind agrees with what was sent."""
    if kind == "individual" and count != 1:
        raise Invalid(FieldError("entrant.authors", MESSAGES("contests.entrant.one_author"), "one_author"))
    if kind == "organization" and not (organization_id or organization_name):
        raise Invalid(
            FieldError("entrant.organization_id", MESSAGES("contests.entrant.organization_needed"), "required")
        )


def unknown_organization(where: str = "entrant.organization_id") -> Invalid:
    return Invalid(FieldError(where, MESSAGES("contests.entrant.unknown_organization"), "unknown"))


def author_keys(stored: Sequence[Mapping[str, Any]]) -> list[str]:
    """Authors' names folded: what a judge's declared co-author or relative is matched against."""
    return [fold(a["full_name"]) for a in stored if a.get("full_name") and not a.get("erased")]


def erase(stored: Sequence[Mapping[str, Any]], member_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The authors with one member's personal data removed; whether anything changed."""
    changed = False
    out: list[dict[str, Any]] = []
    for author in stored:
        if author.get("member_id") == member_id and not author.get("erased"):
            author = {"full_name": ERASED_NAME, "member_id": member_id, "share": author.get("share"), "erased": True}
            changed = True
        out.append(dict(author))
    return out, changed


def refresh(
    stored: Sequence[Mapping[str, Any]], member_id: str, contact: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], bool]:
    """The authors with one member's name and contact data as membership now has them."""
    changed = False
    out: list[dict[str, Any]] = []
    for author in stored:
        if author.get("member_id") == member_id and not author.get("erased"):
            updated = {
                **author,
                **{k: contact.get(k) for k in ("full_name", "email", "phone", "language") if contact.get(k)},
            }
            changed = changed or updated != author
            author = updated
        out.append(dict(author))
    return out, changed
