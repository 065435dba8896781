"""Time, one way for the whole platform: stored in UTC, shown in Asia/Ho_Chi_Minh.

Stored forms (see tests/integration/test_store_shapes.py for why there are two):
- a *moment* people read (created, approved, checked in, a session's start) is a
  BSON datetime in UTC (`now_utc()`); read it back through `shared.mongo.from_store`,
  which restores the ones the embedded store returns as text;
- a *machine time* compared in range queries after updates (a lease, a due time,
  a retry) is a number of seconds since 1970 (`epoch()`), because the embedded store
  compares updated datetimes as text, to the second.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE_NAME = "Asia/Ho_Chi_Minh"
LOCAL = ZoneInfo(LOCAL_ZONE_NAME)


def now_utc() -> datetime:
    """Now, as an aware UTC datetime (what is stored), to the millisecond: a BSON datetime
    keeps no more, so what a write answers is what a later read gives back."""
    return to_millis(datetime.now(UTC))


def to_millis(moment: datetime) -> datetime:
    """The moment as a BSON datetime keeps it (milliseconds)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def today_local() -> date:
    """Today's date in Viet Nam (a member's age, a term's end)."""
    return datetime.now(LOCAL).date()


def epoch(moment: datetime | None = None, *, plus_seconds: float = 0.0) -> float:
    """A machine time (seconds since 1970) for leases and due times: fields compared in
    range queries after updates hold numbers, which compare alike on every store (see
    the module's docstring)."""
    return (moment or datetime.now(UTC)).timestamp() + plus_seconds  # not to the millisecond: a machine time


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as Vietnamese local time (what staff type)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(UTC)


def parse_moment(value: str | datetime) -> datetime:
    """A stored or received moment (datetime, or ISO 8601 text with Z or an offset) in UTC;
    naive text is read as UTC (what the embedded store hands back)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_local(moment: datetime | str) -> datetime:
    return parse_moment(moment).astimezone(LOCAL)


def local_date_text(value: date | datetime | str) -> str:
    """dd/mm/yyyy, as people in Viet Nam write dates."""
    day = value if isinstance(value, date) and not isinstance(value, datetime) else to_local(value).date()
    return day.strftime("%d/%m/%Y")


def local_time_text(moment: datetime | str) -> str:
    """HH:MM dd/mm/yyyy in Viet Nam (24-hour)."""
    return to_local(moment).strftime("%H:%M %d/%m/%Y")
