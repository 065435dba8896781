"""An edition's rounds and their windows, in Asia/Ho_Chi_Minh: pure rules.

Rounds, in order: registration, submission of documents, screening (sơ khảo),
final scoring (chung khảo, optionally with presentations), the organising board's
decision, the award ceremony, forwarding to the national contest. Each has a window
(opens, closes); windows start in this order and may overlap. An action outside its
round's window is refused with the round's dates in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.contests.catalogue import MESSAGES
from services.contests.records import Window
from shared.clock import local_time_text
from shared.errors import Conflict, FieldError, Invalid
from shared.i18n import Message

ROUNDS = ("registration", "submission", "screening", "scoring", "decision", "ceremony", "forwarding")


class RoundClosed(Conflict):
    code, title = "round-closed", MESSAGES("contests.round_closed.title")


def round_label(name: str) -> Message:
    return MESSAGES(f"contests.round.{name}")


def is_open(timeline: Mapping[str, Window], name: str, now: datetime) -> bool:
    window = timeline.get(name)
    return window is not None and window["opens_at"] <= now < window["closes_at"]


def require_open(timeline: Mapping[str, Window], now: datetime, *names: str) -> str:
    """The first of `names` whose window is open now; RoundClosed (409) with the dates otherwise."""
    for name in names:
        if is_open(timeline, name, now):
            return name
    scheduled = [(n, timeline[n]) for n in names if n in timeline]
    if not scheduled:
        raise RoundClosed(MESSAGES("contests.round_unscheduled", round=round_label(names[0])), round=names[0])
    detail = _window_text(*scheduled[0])
    for later in scheduled[1:]:
        detail = MESSAGES("contests.windows_joined", first=detail, second=_window_text(*later))
    if len(scheduled) > 1:
        detail = MESSAGES("contests.rounds_closed", windows=detail)
    return _refuse(detail, *scheduled[0])


def _refuse(detail: Message, name: str, window: Window) -> str:
    raise RoundClosed(
        detail,
        round=name,
        opens_at=window["opens_at"].isoformat(),
        closes_at=window["closes_at"].isoformat(),
    )


def _window_text(name: str, window: Window) -> Message:
    return MESSAGES(
        "contests.round_closed",
        round=round_label(name),
        opens=local_time_text(window["opens_at"]),
        closes=local_time_text(window["closes_at"]),
    )


def check(timeline: Mapping[str, Window]) -> None:
    """Each window closes after it opens; rounds open in their order (Invalid, 422, naming the round)."""
    errors: list[FieldError] = []
    previous: tuple[str, datetime] | None = None
    for name in ROUNDS:
        window = timeline.get(name)
        if window is None:
            continue
        if window["closes_at"] <= window["opens_at"]:
            errors.append(FieldError(f"timeline.{name}.closes_at", MESSAGES("contests.window_order"), "window_order"))
        if previous is not None and window["opens_at"] < previous[1]:
            errors.append(
                FieldError(
                    f"timeline.{name}.opens_at",
                    MESSAGES("contests.round_order", previous=round_label(previous[0])),
                    "round_order",
                )
            )
        previous = (name, window["opens_at"])
    if errors:
        raise Invalid(*errors)
