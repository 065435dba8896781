"""An entry's way through a contest, as pure functions.

    submitted ─▶ screened_in ─▶ scored ─▶ awarded ─▶ forwarded
        │            ▲  │                 └▶ not_awarded
        └──────▶ screened_out

Screening may be changed while the screening window is open and no judge has
submitted a sheet for the entry (a decision is corrected, not appealed later).
Each change is announced to the entrants.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from services.contests.catalogue import MESSAGES
from shared.errors import Conflict

TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"screened_in", "screened_out"}),
    "screened_in": frozenset({"screened_out", "scored", "awarded", "not_awarded"}),
    "screened_out": frozenset({"screened_in"}),
    "scored": frozenset({"awarded", "not_awarded"}),
    "awarded": frozenset({"forwarded"}),
    "not_awarded": frozenset(),
    "forwarded": frozenset(),
}
STATUSES = tuple(TRANSITIONS)
IN_COMPETITION = ("screened_in", "scored")  # what judges score and the board ranks
EDITABLE = ("submitted",)  # entrants may still change what they sent


class InvalidTransition(Conflict):
    code, title = "invalid-transition", MESSAGES("contests.transition.title")


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def require_move(current: str, target: str) -> None:
    if not can_move(current, target):
        raise InvalidTransition(
            MESSAGES(
                "contests.transition",
                current=MESSAGES(f"contests.status.{current}"),
                target=MESSAGES(f"contests.status.{target}"),
            ),
            entry_status=current,
        )


def result_status(tier: str | None) -> str:
    return "awarded" if tier else "not_awarded"


def history_key(at: datetime) -> str:
    """A map key that sorts in time order (microseconds since 1970), made unique by a random
    tail: two lines written in the same millisecond (moments are kept to the millisecond,
    shared.clock) must not overwrite each other."""
    return f"{round(at.timestamp() * 1_000_000):017d}-{uuid.uuid4().hex[:6]}"


def change(status: str, at: datetime, by: str, reason: str | None = None) -> dict[str, object]:
    """The `$set` fields recording a move to `status`, with its line in the entry's history."""
    line: dict[str, object] = {"status": status, "at": at, "by": by}
    if reason:
        line["reason"] = reason
    return {"status": status, f"history.{history_key(at)}": line, "updated_at": at}
