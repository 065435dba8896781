"""How the console writes dates, times and numbers: dd/mm/yyyy, 24-hour clock, in
Asia/Ho_Chi_Minh, numbers grouped the Vietnamese way (1.234.567) — pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def local(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL)


def day(value: date | datetime | str | None) -> str:
    """dd/mm/yyyy (a datetime is first put in Asia/Ho_Chi_Minh)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = local(value)
    assert value is not None
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def moment(value: datetime | str | None) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    when = local(value)
    return "" if when is None else f"{day(when)} {when:%H:%M}"


def clock(value: datetime | str | None) -> str:
    when = local(value)
    return "" if when is None else f"{when:%H:%M}"


def number(value: Any, lang: str = "vi") -> str:
    """1.234.567 in Vietnamese, 1,234,567 in English."""
    if value is None or value == "":
        return ""
    grouped = f"{int(value):,}"
    return grouped.replace(",", ".") if lang == "vi" else grouped


def points(value: Any, lang: str = "vi") -> str:
    """A score as judges write it: 85, 84,67 in Vietnamese (84.67 in English)."""
    if value is None or value == "":
        return ""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "vi" else text


def input_moment(value: datetime | str | None) -> str:
    """The value of an `<input type="datetime-local">`, in local time."""
    when = local(value)
    return "" if when is None else f"{when:%Y-%m-%dT%H:%M}"


def parse_local(text: str) -> datetime | None:
    """A time typed in the console (datetime-local or dd/mm/yyyy HH:MM), as Asia/Ho_Chi_Minh."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=LOCAL)
        except ValueError:
            continue
    return None


def parse_day(text: str) -> date | None:
    """A day typed as dd/mm/yyyy or given by a date input (yyyy-mm-dd)."""
    text = (text or "").strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def today_local(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(LOCAL).date()
