import asyncio

import pytest

from shared.waiting import wake_or_timeout


async def test_a_cancellation_arriving_as_the_event_is_set_ends_the_loop():
    wake = asyncio.Event()
    rounds = 0

    async def loop():
        nonlocal rounds
        while True:
            rounds += 1
            await wake_or_timeout(wake, 10)
            wake.clear()

    for _ in range(50):  # the race wait_for loses on Python 3.11
        task = asyncio.create_task(loop())
        await asyncio.sleep(0)
        wake.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)


async def test_it_returns_on_the_event_or_after_the_timeout():
    wake = asyncio.Event()
    wake.set()
    await asyncio.wait_for(wake_or_timeout(wake, 10), 1)
    wake.clear()
    await asyncio.wait_for(wake_or_timeout(wake, 0.01), 1)


async def test_a_cancellation_swallowed_below_the_loop_still_ends_it():
    async def swallowing_work():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ConnectionError("channel closed") from None  # what some client libraries do

    async def loop():
        while True:
            try:
                await swallowing_work()
            except Exception:
                pass
            await wake_or_timeout(asyncio.Event(), 10)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
