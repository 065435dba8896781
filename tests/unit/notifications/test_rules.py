from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifications.rules import (
    LOCAL,
    ServiceMessagesNeedAChannel,
    announcement_sms,
    check_preferences,
    choose_channels,
    merged_preferences,
    next_sms_window,
    retry_delay,
    sms_window_open,
)


def utc(h, m=0, day=27):
    return datetime(2026, 11, day, h, m, tzinfo=UTC)


def test_the_sms_window_is_7_to_22_in_vietnam():
    assert not sms_window_open(utc(23, 59, day=26))  # 06:59 local
    assert sms_window_open(utc(0, 0))  # 07:00 local
    assert sms_window_open(utc(14, 59))  # 21:59 local
    assert not sms_window_open(utc(15, 0))  # 22:00 local


def test_a_held_sms_waits_for_seven_in_the_morning_local_time():
    assert next_sms_window(utc(15, 30)) == utc(0, 0, day=28)  # 22:30 → tomorrow 07:00 (00:00 UTC)
    assert next_sms_window(utc(22, 0, day=26)) == utc(0, 0, day=27)  # 05:00 → 07:00 the same day
    assert next_sms_window(utc(3, 0)) == utc(3, 0)  # inside the window: now


def test_equal_hours_mean_no_quiet_hours():
    assert sms_window_open(utc(16), start_hour=0, end_hour=0)


def test_announcement_sms_carry_the_tag_and_the_opt_out():
    assert announcement_sms("Hoi thi sang tao", tag="QC", opt_out="Tu choi: TC") == "[QC] Hoi thi sang tao Tu choi: TC"
    assert announcement_sms("[QC] x Tu choi: TC", tag="QC", opt_out="Tu choi: TC") == "[QC] x Tu choi: TC"
    assert announcement_sms("x", tag="(QC)", opt_out="") == "(QC) x"


def test_service_messages_cannot_be_turned_off_on_every_channel():
    prefs = merged_preferences({"service": {"email": False}})
    check_preferences(prefs)
    prefs["service"]["sms"] = False
    with pytest.raises(ServiceMessagesNeedAChannel):
        check_preferences(prefs)


def test_a_service_message_moves_to_the_channel_the_person_kept():
    prefs = merged_preferences({"service": {"email": False, "sms": True}})
    assert choose_channels(("email",), "service", prefs, {}) == (["sms"], {"email": "opted-out"})
    # ... unless that channel cannot be used either
    assert choose_channels(("email",), "service", prefs, {"sms": "no-address"}) == ([], {"email": "opted-out"})


def test_announcements_respect_each_channel_and_staff_mail_ignores_preferences():
    prefs = merged_preferences({"announcement": {"sms": False}})
    assert choose_channels(("email", "sms"), "announcement", prefs, {}) == (["email"], {"sms": "opted-out"})
    assert choose_channels(("email", "sms"), "announcement", prefs, {"email": "no-consent"}) == (
        [],
        {"email": "no-consent", "sms": "opted-out"},
    )
    assert choose_channels(("email",), "staff", merged_preferences({"service": {"email": False}}), {}) == (
        ["email"],
        {},
    )


def test_retries_wait_longer_each_time_up_to_a_cap():
    delays = [30.0, 120.0, 600.0]
    assert [retry_delay(n, delays) for n in (1, 2, 3, 4, 9)] == [30.0, 120.0, 600.0, 600.0, 600.0]


# Issue 11.9: quiet hours 12→14 (a sending window 14→12 that crosses midnight) never opened.
HOURS = st.integers(min_value=0, max_value=23)
MOMENTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


def _allowed(hour: int, start: int, end: int) -> bool:
    """The sending window by enumeration: the hours from `start` up to (not including) `end`, round the clock."""
    if start == end:
        return True
    return hour in {(start + i) % 24 for i in range((end - start) % 24)}


@settings(max_examples=600, deadline=None)
@given(start=HOURS, end=HOURS, moment=MOMENTS)
def test_every_sms_window_opens_within_a_day_and_only_in_its_hours(start, end, moment):
    opens = next_sms_window(moment, start_hour=start, end_hour=end)
    assert sms_window_open(moment, start_hour=start, end_hour=end) == _allowed(
        moment.astimezone(LOCAL).hour, start, end
    )
    assert moment <= opens <= moment + timedelta(hours=24)
    assert sms_window_open(opens, start_hour=start, end_hour=end)
    if opens > moment:  # it opens on the hour, and not a moment earlier
        local = opens.astimezone(LOCAL)
        assert (local.hour, local.minute, local.second) == (start, 0, 0)
        assert not sms_window_open(opens - timedelta(seconds=1), start_hour=start, end_hour=end)


def test_quiet_hours_that_do_not_cross_midnight_let_the_morning_and_evening_through():
    # Quiet 12→14 local: announcement SMS may go from 14:00 until 12:00 the next day.
    assert sms_window_open(utc(1), start_hour=14, end_hour=12)  # 08:00 local
    assert not sms_window_open(utc(5, 30), start_hour=14, end_hour=12)  # 12:30 local
    assert next_sms_window(utc(5, 30), start_hour=14, end_hour=12) == utc(7, 0)  # 14:00 local
