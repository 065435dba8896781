"""The retry schedule: about three days of growing delays, then giving up."""

from itertools import pairwise

import pytest

from services.webhooks.schedule import RetrySchedule, failing_too_long, outcome_of, retry_after_seconds
from shared.settings import Settings

HOUR = 3600.0


def default_schedule() -> RetrySchedule:
    s = Settings()
    return RetrySchedule.of(s.webhooks_retry_delays, s.webhooks_retry_hours)


def test_the_default_schedule_tries_twelve_times_over_about_three_days():
    times = default_schedule().plan()
    assert times[:7] == [0, 5, 5 + 300, 5 + 300 + 1800, 9305, 9305 + 5 * HOUR, 9305 + 15 * HOUR]
    gaps = [b - a for a, b in pairwise(times)]
    assert gaps == [5, 300, 1800, 2 * HOUR, 5 * HOUR] + [10 * HOUR] * 6
    assert len(times) == 12 and 2.5 * 24 * HOUR < times[-1] <= 72 * HOUR


def test_after_the_last_try_the_delivery_is_given_up():
    schedule = default_schedule()
    last = schedule.plan()[-1]
    assert schedule.next_try(0.0, 12, last) is None
    assert schedule.next_try(0.0, 11, last - 10 * HOUR) == last


def test_jitter_stretches_a_delay_by_at_most_a_tenth():
    schedule = RetrySchedule.of([100.0], 1.0)
    assert schedule.next_try(0.0, 1, 0.0, jitter=0.0) == 100.0
    assert schedule.next_try(0.0, 1, 0.0, jitter=0.999) == pytest.approx(109.99)


def test_retry_after_is_honoured_when_longer_but_never_beyond_the_window():
    schedule = RetrySchedule.of([5.0], 1.0)
    assert schedule.next_try(0.0, 1, 0.0, retry_after=60.0) == 60.0
    assert schedule.next_try(0.0, 1, 0.0, retry_after=1.0) == 5.0
    assert schedule.next_try(0.0, 1, 0.0, retry_after=2 * HOUR) is None
    assert retry_after_seconds(429, "30") == 30.0 and retry_after_seconds(503, " 7 ") == 7.0
    assert retry_after_seconds(500, "30") is None and retry_after_seconds(429, "Wed, 21 Oct 2026 07:28:00 GMT") is None


@pytest.mark.parametrize(
    "status, outcome",
    [
        (200, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (301, "failed"),
        (404, "failed"),
        (410, "gone"),
        (500, "failed"),
    ],
)
def test_what_each_answer_means(status, outcome):
    assert outcome_of(status) == outcome


def test_an_endpoint_failing_for_five_days_is_disabled():
    assert not failing_too_long(0.0, 10 * 24 * HOUR, 120.0)  # 0: not failing
    assert not failing_too_long(1000.0, 1000.0 + 119 * HOUR, 120.0)
    assert failing_too_long(1000.0, 1000.0 + 120 * HOUR, 120.0)


def test_a_schedule_needs_positive_delays():
    with pytest.raises(ValueError):
        RetrySchedule.of([], 72)
    with pytest.raises(ValueError):
        RetrySchedule.of([5, 0], 72)
