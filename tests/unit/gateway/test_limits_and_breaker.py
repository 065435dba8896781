"""Rate limits and the circuit breaker, on a clock the test moves."""

from __future__ import annotations

import pytest

from services.gateway.breaker import CircuitBreaker, unhealthy_status
from services.gateway.ratelimit import TokenBuckets, grant, lease_size, refill


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_may_burst_then_waits_for_the_bucket_to_refill():
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("k").allowed for _ in range(4)] == [True, True, True, False]
    refused = buckets.take("k")
    assert refused.retry_after == 0.5 and refused.remaining == 0
    assert refused.headers(buckets.window)["Retry-After"] == "1"
    clock.now += 0.5
    assert buckets.take("k").allowed
    assert not buckets.take("k").allowed


def test_callers_have_separate_buckets_and_headers_tell_the_state():
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=2, clock=clock)
    buckets.take("a"), buckets.take("a")
    fresh = buckets.take("b")
    assert fresh.allowed and fresh.remaining == 1
    headers = fresh.headers(buckets.window)
    assert headers["RateLimit-Limit"] == "2" and headers["RateLimit-Remaining"] == "1"
    assert headers["RateLimit-Policy"] == "2;w=2" and "Retry-After" not in headers


def test_a_full_table_forgets_callers_whose_bucket_refilled():
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=1, clock=clock, max_keys=3)
    for key in "abc":
        buckets.take(key)
    clock.now += 5
    assert buckets.take("d").allowed
    assert len(buckets._buckets) == 1


def test_the_breaker_opens_after_failures_in_a_row_and_tries_once_after_the_pause():
    clock = Clock()
    breaker = CircuitBreaker(failures=3, reset_seconds=10, clock=clock)
    for _ in range(2):
        breaker.failure()
    breaker.success()  # a success in between resets the count
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "open" and not breaker.allow() and breaker.retry_after() == 10
    clock.now += 10
    assert breaker.state == "half-open"
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.failure()
    assert breaker.state == "open"
    clock.now += 10
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()


def test_only_failures_that_say_the_replica_is_unhealthy_count():
    assert [
        s for s in (200, 201, 204, 400, 401, 404, 409, 422, 429, 500, 501, 502, 503, 504) if unhealthy_status(s)
    ] == [
        502,
        503,
    ]


def test_a_half_open_circuit_lets_a_small_share_through_until_one_succeeds():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, reset_seconds=10, share=0.1, clock=clock)
    breaker.failure()
    assert breaker.state == "open" and not any(breaker.allow() for _ in range(50))
    clock.now += 10
    admitted = [breaker.allow() for _ in range(100)]
    assert admitted.count(True) == 10 and admitted[0]  # one in ten, the first at once
    breaker.success()
    assert breaker.state == "closed" and all(breaker.allow() for _ in range(10))


def test_a_readiness_check_closes_an_open_circuit_at_once_and_a_failed_one_opens_it():
    clock = Clock()
    breaker = CircuitBreaker(failures=5, reset_seconds=60, clock=clock)
    breaker.trip()
    assert breaker.state == "open" and not breaker.allow()
    breaker.ready()
    assert breaker.state == "closed" and breaker.allow()


def test_leases_are_a_quarter_second_of_tokens_and_a_quarter_of_the_burst_at_most():
    assert lease_size(20.0, 100) == 5 and lease_size(20.0, 10) == 2 and lease_size(0.1, 2) == 1
    assert lease_size(1_000_000.0, 1_000_000) == 250_000
    assert refill(0.0, 100.0, 101.5, rate=2.0, burst=10) == 3.0 and refill(9.0, 0.0, 100.0, 2.0, 10) == 10.0
    assert grant(3.7, 5) == (3, pytest.approx(0.7)) and grant(0.9, 5) == (0, 0.9)
