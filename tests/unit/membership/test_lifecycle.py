from datetime import date, datetime, timedelta

import pytest

from services.membership.lifecycle import (
    LOCAL,
    InvalidTransition,
    first_term,
    next_notice,
    next_status,
    notice_due,
    renewed_term,
)


@pytest.mark.parametrize(
    "current, action, target",
    [
        ("applied", "approve", "active"),
        ("applied", "reject", "rejected"),
        ("active", "suspend", "suspended"),
        ("suspended", "reinstate", "active"),
        ("active", "resign", "resigned"),
        ("lapsed", "resign", "resigned"),
        ("active", "lapse", "lapsed"),
        ("suspended", "lapse", "lapsed"),
    ],
)
def test_allowed_changes(current, action, target):
    assert next_status(current, action) == target


@pytest.mark.parametrize(
    "current, action",
    [
        ("active", "approve"),
        ("resigned", "reinstate"),
        ("rejected", "approve"),
        ("applied", "suspend"),
        ("lapsed", "suspend"),
        ("erased", "resign"),
    ],
)
def test_refused_changes_say_what_is_possible(current, action):
    with pytest.raises(InvalidTransition) as err:
        next_status(current, action)
    assert err.value.extra["status_now"] == current


def test_terms_run_a_year_and_renewals_leave_no_gap():
    assert first_term(date(2026, 3, 1)) == (date(2026, 3, 1), date(2027, 2, 28))
    assert first_term(date(2024, 2, 29)) == (date(2024, 2, 29), date(2025, 2, 27))
    assert renewed_term(date(2027, 2, 28), date(2027, 2, 1)) == (date(2027, 3, 1), date(2028, 2, 29))
    assert renewed_term(date(2026, 1, 1), date(2026, 6, 1), years=2) == (date(2026, 6, 1), date(2028, 5, 31))


def at(day: date, hour: int = 9) -> float:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL).timestamp()


def test_notices_fall_30_and_7_days_before_the_end_and_the_lapse_the_day_after():
    end = date(2027, 6, 30)
    assert next_notice(end, at(date(2026, 7, 1))) == ("expiring30", notice_due("expiring30", end))
    assert notice_due("expiring30", end) == at(date(2027, 5, 31), 0)
    assert next_notice(end, at(date(2027, 5, 31)), "expiring30") == ("expiring7", at(date(2027, 6, 23), 0))
    assert next_notice(end, at(date(2027, 6, 23)), "expiring7") == ("lapse", at(date(2027, 7, 1), 0))
    assert next_notice(end, at(date(2027, 7, 1)), "lapse") is None


def test_a_late_term_skips_notices_a_later_one_supersedes():
    end = date(2027, 6, 30)
    assert next_notice(end, at(end - timedelta(days=5)))[0] == "expiring7"
    assert next_notice(end, at(end + timedelta(days=3)))[0] == "lapse"
    assert next_notice(end, at(end - timedelta(days=20)), "expiring30")[0] == "expiring7"
