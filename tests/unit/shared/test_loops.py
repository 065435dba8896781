"""One background loop: works while there is work, backs off when idle, wakes on notify,
survives a failing step and stops cleanly."""

from __future__ import annotations

import asyncio
import itertools
import time

from shared.loops import BackgroundLoop
from tests.support import eventually


async def test_a_loop_works_until_idle_then_backs_off_and_a_notify_wakes_it():
    work = [1, 2, 3]
    idle_steps = []

    async def step() -> bool:
        if work:
            work.pop()
            return True
        idle_steps.append(asyncio.get_running_loop().time())
        return False

    loop = BackgroundLoop("test", step, idle_seconds=0.02, max_idle_seconds=0.16)
    loop.start()
    try:
        await eventually(lambda: _value(len(idle_steps) >= 5), what="idle steps")
        assert loop.steps == 3
        gaps = [b - a for a, b in itertools.pairwise(idle_steps)]
        assert gaps[-1] > gaps[0] * 2, "idle waits grow"
        work.append(4)
        loop.notify()
        await eventually(lambda: _value(loop.steps == 4), timeout=0.1, what="woken at once")
    finally:
        await loop.stop()
    assert not loop.running


async def test_a_failing_step_is_retried_and_does_not_kill_the_loop():
    calls = []

    async def step() -> bool:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("store down")
        return False

    loop = BackgroundLoop("flaky", step, idle_seconds=10, error_seconds=0.01)
    loop.start()
    try:
        await eventually(lambda: _value(len(calls) >= 3), what="third call")
        assert loop.failures == 2 and loop.running
    finally:
        await loop.stop()


async def test_stop_with_a_grace_lets_the_step_in_hand_finish():
    finished = []

    async def step() -> bool:
        await asyncio.sleep(0.05)
        finished.append(1)
        return True

    loop = BackgroundLoop("busy", step, idle_seconds=1)
    loop.start()
    await asyncio.sleep(0.01)
    assert await loop.stop(grace_seconds=1) is True
    count = len(finished)
    assert count >= 1
    await asyncio.sleep(0.1)
    assert len(finished) == count, "nothing runs after stop"


async def _value(value):
    return value


async def test_a_step_that_knows_when_its_next_work_is_due_is_run_again_then_not_at_the_poll():
    calls: list[float] = []

    async def step() -> float:
        calls.append(asyncio.get_running_loop().time())
        return 0.05  # nothing now; the next item falls due in 50 ms

    loop = BackgroundLoop("test", step, idle_seconds=30.0)
    loop.start()
    try:
        await eventually(lambda: _value(len(calls) >= 3), timeout=2.0, what="steps at the due time, not the 30 s poll")
    finally:
        await loop.stop()


async def test_work_promised_for_later_runs_the_step_then_however_long_the_loop_meant_to_sleep():
    calls: list[float] = []

    async def step() -> bool:
        calls.append(time.monotonic())
        return False  # nothing to do: the loop would sleep 30 s

    loop = BackgroundLoop("test", step, idle_seconds=30.0)
    loop.start()
    try:
        await eventually(lambda: _value(len(calls) == 1), what="first step")
        promised_at = time.monotonic()
        loop.notify_in(0.4)
        loop.notify_in(0.1)  # sooner: the loop re-plans its sleep, and keeps the later one too
        await eventually(lambda: _value(len(calls) == 3), timeout=2.0, what="a step at each promised time")
        assert 0.09 <= calls[1] - promised_at < 0.35, "the sooner promise, not before its time"
        assert calls[2] - promised_at >= 0.39, "the later promise, not before its time"
    finally:
        await loop.stop()


async def test_a_promise_that_falls_due_during_a_slow_step_runs_another_step():
    calls: list[float] = []
    release = asyncio.Event()

    async def step() -> bool:
        calls.append(time.monotonic())
        if len(calls) == 1:
            await release.wait()  # a slow first step
        return False

    loop = BackgroundLoop("test", step, idle_seconds=30.0)
    loop.start()
    try:
        await eventually(lambda: _value(len(calls) == 1), what="the slow step begun")
        loop.notify_in(0.05)
        await asyncio.sleep(0.1)  # the promise falls due while the step is still in hand
        release.set()
        await eventually(lambda: _value(len(calls) == 2), timeout=2.0, what="the promised step after the slow one")
    finally:
        await loop.stop()
