"""The membership lifecycle: which status changes are allowed, what a term is, and
when a term's notices fall due.

    applied ─approve→ active ─suspend→ suspended ─reinstate→ active
       └─reject→ rejected        active/suspended ─lapse (end date passed)→ lapsed ─renew→ active
                                 active/suspended/lapsed ─resign→ resigned

Pure functions, no I/O. Dates are the federation's calendar (Asia/Ho_Chi_Minh);
due times are epoch numbers, as the store compares them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from services.membership import catalogue
from services.membership.catalogue import MESSAGES
from shared.clock import LOCAL
from shared.errors import Conflict

# action → (statuses it applies to, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"applied"}), "active"),
    "reject": (frozenset({"applied"}), "rejected"),
    "suspend": (frozenset({"active"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "active"),
    "resign": (frozenset({"active", "suspended", "lapsed"}), "resigned"),
    "lapse": (frozenset({"active", "suspended"}), "lapsed"),
}
RENEWABLE = frozenset({"active", "suspended", "lapsed"})
# Notices of a term, in order: (stage, days before the end; negative: after).
NOTICES: tuple[tuple[str, int], ...] = (("expiring30", 30), ("expiring7", 7), ("lapse", -1))


class InvalidTransition(Conflict):
    code, title = "invalid-transition", MESSAGES("membership.invalid_transition")


def cannot(action: str, status: str) -> InvalidTransition:
    detail = MESSAGES("membership.cannot", action=catalogue.action(action), status=catalogue.status(status))
    return InvalidTransition(detail, status_now=status, action=action)


def next_status(current: str, action: str) -> str:
    """The status `action` leads to from `current`; InvalidTransition if it is not allowed."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        possible = sorted(a for a, (src, _) in TRANSITIONS.items() if current in src and a != "lapse")
        refusal = cannot(action, current)
        refusal.extra["possible_actions"] = possible
        raise refusal
    return target


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def first_term(today: date, years: int = 1) -> tuple[date, date]:
    """A new member's term: from today to the day before the same date `years` later."""
    return today, add_years(today, years) - timedelta(days=1)


def renewed_term(current_end: date | None, today: date, years: int = 1) -> tuple[date, date]:
    """Renewal continues the current term without a gap, or starts today if it has lapsed."""
    start = current_end + timedelta(days=1) if current_end is not None and current_end >= today else today
    return start, add_years(start, years) - timedelta(days=1)


def _local_midnight_epoch(day: date) -> float:
    return datetime.combine(day, time(0, 0), LOCAL).timestamp()


def notice_due(stage: str, term_end: date) -> float:
    days = dict(NOTICES)[stage]
    return _local_midnight_epoch(term_end - timedelta(days=days))


def next_notice(term_end: date, now: float, after: str | None = None) -> tuple[str, float] | None:
    """The next notice of a term still to come (stage, due epoch), skipping those a
    later due notice supersedes: a term set 5 days before its end gets the 7-day
    notice, not a late 30-day one. None once the lapse is done."""
    stages = [s for s, _ in NOTICES]
    remaining = stages[stages.index(after) + 1 :] if after else stages
    if not remaining:
        return None
    due_now = [s for s in remaining if notice_due(s, term_end) <= now]
    stage = due_now[-1] if due_now else remaining[0]
    return stage, notice_due(stage, term_end)


def days_left(term_end: date, today: date) -> int:
    return (term_end - today).days
