"""The rules of campaigns, without I/O: who may address which segment, how long an
announcement SMS may be, and which status changes are allowed.

- A campaign is within a caller's reach when the caller reaches everything (the
  federation's office) or when it addresses an organisation the caller reaches
  (shared.access); managers may not address expertise, event or "consented"
  segments, which cross associations.
- An announcement SMS, with its tag and opt-out text, takes at most the configured
  number of segments.
- running → paused (pause), paused → running (resume), running or paused →
  cancelled (cancel); nothing leaves `cancelled`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.notifications.messages import MESSAGES
from shared.access import Reach
from shared.errors import Conflict, FieldError, Forbidden, Invalid


@dataclass(frozen=True)
class Transition:
    action: str
    to: str
    allowed_from: tuple[str, ...]


TRANSITIONS = {
    "pause": Transition("pause", "paused", ("running",)),
    "resume": Transition("resume", "running", ("paused",)),
    "cancel": Transition("cancel", "cancelled", ("running", "paused")),
}


def within(segment: Mapping[str, Any], reach: Reach) -> bool:
    """May a caller with `reach` see or address a campaign to `segment`?"""
    return reach.everything or (segment.get("kind") == "organization" and reach.covers(segment.get("value")))


def check_segment(segment: Mapping[str, Any], reach: Reach) -> None:
    if not within(segment, reach):
        raise Forbidden(
            MESSAGES("notifications.outside_reach"),
            errors=[
                FieldError("segment", MESSAGES("notifications.outside_reach.field"), "outside_your_organization"),
            ],
        )


def check_sms_segments(segments: int, limit: int) -> None:
    if segments > limit:
        raise Invalid(
            FieldError(
                "sms_text",
                MESSAGES("notifications.sms_too_long.field", segments=segments, limit=limit),
                "too_many_segments",
                extra={"segments": segments},
            ),
            detail=MESSAGES("notifications.sms_too_long"),
        )


def transition(action: str) -> Transition:
    return TRANSITIONS[action]


def refused(action: str, current_status: str) -> Conflict:
    """Why a status change did not happen (the campaign was elsewhere)."""
    return Conflict(
        MESSAGES(
            "notifications.campaign_refused",
            status=current_status,
            action=MESSAGES(f"notifications.action.{action}"),
        ),
        campaign_status=current_status,
    )
