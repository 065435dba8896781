"""Members' choices and the rules on sending: preferences, quiet hours, daily caps.

Categories:
- `service`: messages about something the person did or is part of (welcome,
  registrations, reminders, membership terms). They cannot be turned off entirely,
  only moved from one channel to another.
- `announcement`: campaigns. Each channel may be turned off; SMS announcements keep
  the advertising rules (quiet hours, at most N a day, tag and opt-out text).
- `staff`: messages to the federation's own staff (e.g. an application to review);
  no preferences apply.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

Channel = Literal["email", "sms"]
Category = Literal["service", "announcement", "staff"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
CATEGORIES: tuple[str, ...] = ("service", "announcement")
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


class ServiceMessagesNeedAChannel(ValueError):
    """Both channels of service messages were turned off."""


def default_preferences() -> dict[str, dict[str, bool]]:
    """Before a member chooses, every channel is on; consents (given when they joined)
    and an address on file decide the rest."""
    return {category: {channel: True for channel in CHANNELS} for category in CATEGORIES}


def merged_preferences(stored: dict[str, Any] | None) -> dict[str, dict[str, bool]]:
    prefs = default_preferences()
    for category in CATEGORIES:
        for channel in CHANNELS:
            value = ((stored or {}).get(category) or {}).get(channel)
            if value is not None:
                prefs[category][channel] = bool(value)
    return prefs


def check_preferences(prefs: dict[str, dict[str, bool]]) -> None:
    if not any(prefs["service"].values()):
        raise ServiceMessagesNeedAChannel("service messages must stay on for at least one channel")


def choose_channels(
    route_channels: tuple[Channel, ...], category: Category, prefs: dict[str, dict[str, bool]], unusable: dict[str, str]
) -> tuple[list[Channel], dict[str, str]]:
    """The channels a message goes out on, and why each other channel of the route is
    skipped. `unusable` maps a channel to why it cannot be used at all (no address,
    no consent, suppressed). A service message the person moved off the route's
    channels goes out on a channel they kept on instead."""
    chosen: list[Channel] = []
    skipped: dict[str, str] = {}
    for channel in route_channels:
        if channel in unusable:
            skipped[channel] = unusable[channel]
        elif category != "staff" and not prefs[category][channel]:
            skipped[channel] = "opted-out"
        else:
            chosen.append(channel)
    if category == "service" and not chosen:
        moved = [c for c in CHANNELS if c not in route_channels and c not in unusable and prefs["service"][c]]
        chosen.extend(moved[:1])
    return chosen, skipped


def sms_window_open(moment: datetime, *, start_hour: int = 7, end_hour: int = 22) -> bool:
    """Is `moment` inside the hours announcement SMS may be sent (local time), from
    `start_hour` up to `end_hour`? A window may cross midnight (14 → 12: quiet only
    from noon to two); equal hours mean no quiet hours at all."""
    if start_hour == end_hour:
        return True
    hour = moment.astimezone(LOCAL).hour
    if start_hour < end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour


def next_sms_window(moment: datetime, *, start_hour: int = 7, end_hour: int = 22) -> datetime:
    """`moment` if announcement SMS may go out then, else when the window next opens (UTC)."""
    if sms_window_open(moment, start_hour=start_hour, end_hour=end_hour):
        return moment
    local = moment.astimezone(LOCAL)
    opening = local.replace(hour=start_hour, minute=0, second=0, microsecond=0)
    if opening <= local:
        opening += timedelta(days=1)
    return opening.astimezone(UTC)


def announcement_sms(text: str, *, tag: str, opt_out: str) -> str:
    """An announcement SMS as the rules want it: the tag first, opt-out instructions last."""
    body = text.strip()
    prefix = tag if tag.startswith(("[", "(")) else f"[{tag}]"
    if not body.startswith(prefix):
        body = f"{prefix} {body}"
    if opt_out and not body.endswith(opt_out):
        body = f"{body} {opt_out}"
    return body


def retry_delay(attempt: int, delays: list[float]) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based); the last repeats."""
    return delays[min(attempt - 1, len(delays) - 1)]


def receipt_outcome(
    request_id: str | None, status: str | None, esms_request_id: str | None, esms_status: int | str | None
) -> tuple[str, str]:
    """A provider's delivery receipt as (delivery key, delivered|failed): our generic
    shape (`request_id`, `status`) or eSMS.vn's (`RequestId`, `SendStatus`: 5 is
    delivered, any other final code failed)."""
    key = request_id or esms_request_id or ""
    return key, status or ("delivered" if str(esms_status) == "5" else "failed")
