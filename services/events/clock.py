"""Times: stored in UTC (ISO text and epoch numbers), shown in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE_NAME = "Asia/Ho_Chi_Minh"
LOCAL = ZoneInfo(LOCAL_ZONE_NAME)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is read as Vietnamese local time (what staff type)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(UTC)


def to_text(moment: datetime) -> str:
    """How times are stored: ISO 8601 in UTC with a Z, the same on every store."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def from_text(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def local_text(value: str | datetime) -> str:
    """A time as people in Viet Nam read it: 14:30 27/11/2026."""
    return from_text(value).astimezone(LOCAL).strftime("%H:%M %d/%m/%Y")


def local_iso(value: str | datetime) -> str:
    return from_text(value).astimezone(LOCAL).isoformat()


def now_utc() -> datetime:
    return datetime.now(UTC)
